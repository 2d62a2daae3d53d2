"""Check a DOTA-layout dataset and list every problem at once.

Training, splitting and evaluation stop at the first bad line (or, with
``on_invalid='skip'``, drop it); before a long run one wants the whole list.
:func:`check_dota_dataset` reads every label file and every image and
reports, each as ``path[:line]: reason``:

* bad label lines (field count, non-numeric or non-finite coordinates,
  difficult flag other than 0/1), unknown classes, degenerate polygons
  (zero area, e.g. four equal points), label files that are not UTF-8 text;
* label files without an image and images without a label file;
* unreadable images (empty, truncated, not an image);
* objects with a vertex far outside their image: beyond the border by more
  than ``outside_margin`` times the image side. The margin is our choice:
  DOTA labels often lie a few pixels outside the image, which is harmless,
  while a vertex far outside points at swapped or mis-scaled coordinates.
"""
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np
from tqdm import tqdm

from ..core.fileio import (
    InputError,
    list_label_files,
    read_image,
    resolve_classes,
    scan_dota_labels,
)
from .dota_split import list_images


@dataclass
class DatasetCheck:
    """The outcome of :func:`check_dota_dataset`.

    Attributes:
        problems: every problem, by image name, file and line; each has
            ``kind``.
        images: number of images found.
        label_files: number of label files found.
        objects: number of valid objects read.
    """
    problems: List[InputError] = field(default_factory=list)
    images: int = 0
    label_files: int = 0
    objects: int = 0

    def counts(self) -> Dict[str, int]:
        """Number of problems of each kind."""
        return dict(Counter(p.kind for p in self.problems))

    def summary(self) -> str:
        """One line: the totals and the problems by kind."""
        checked = (f'{self.images} images, {self.label_files} label files, '
                   f'{self.objects} valid objects')
        if not self.problems:
            return f'no problem found ({checked})'
        kinds = ', '.join(f'{kind}: {n}' for kind, n in sorted(
            self.counts().items()))
        files = len({p.path for p in self.problems})
        return (f'{len(self.problems)} problem(s) in {files} file(s): '
                f'{kinds} ({checked})')


def _outside_problems(label_file: str, polygons: np.ndarray,
                      lines: np.ndarray, width: int, height: int,
                      margin: float) -> List[InputError]:
    points = polygons.reshape(-1, 4, 2)
    limit = np.array([width, height], np.float64)
    beyond = np.maximum(-points, points - limit) / limit  # in image sides
    out = []
    for k in np.nonzero(beyond.max(axis=(1, 2)) > margin)[0]:
        v = int(np.argmax(beyond[k].max(axis=1)))
        x, y = points[k, v]
        out.append(InputError(
            label_file, f'vertex ({x:g}, {y:g}) lies far outside the '
            f'{width}x{height} image', int(lines[k]), kind='outside image'))
    return out


def check_dota_dataset(img_dir: str,
                       ann_dir: str,
                       classes: Optional[Sequence[str]] = None,
                       dota_version: str = 'v1.0',
                       outside_margin: float = 0.1,
                       progress: bool = False) -> DatasetCheck:
    """Read a whole DOTA-layout dataset and collect every problem.

    Args:
        img_dir: folder of the images.
        ann_dir: folder of the label ``.txt`` files.
        classes: class names (default: those of ``dota_version``).
        dota_version: ``'v1.0'``, ``'v1.5'`` or ``'v2.0'``.
        outside_margin: a vertex further outside the image than this
            fraction of the image side is a problem.
        progress: show a progress bar.

    Raises:
        MissingInputError: a folder does not exist.
    """
    classes = resolve_classes(classes, dota_version)
    images = {osp.splitext(osp.basename(p))[0]: p
              for p in list_images(img_dir)}
    labels = {osp.splitext(osp.basename(p))[0]: p
              for p in list_label_files(ann_dir)}
    result = DatasetCheck(images=len(images), label_files=len(labels))
    for name in tqdm(sorted(set(images) | set(labels)), desc='check',
                     unit='file', disable=not progress):
        image, label = images.get(name), labels.get(name)
        size = None
        if image is None:
            result.problems.append(InputError(
                label, f'no image {name}.* in {img_dir}',
                kind='label file without image'))
        else:
            try:
                size = read_image(image).shape[1::-1]
            except InputError as err:
                err.kind = 'unreadable image'
                result.problems.append(err)
        if label is None:
            result.problems.append(InputError(
                image, f'no label file {name}.txt in {ann_dir}',
                kind='image without label file'))
            continue
        scan = scan_dota_labels(label, classes)
        result.problems.extend(scan.problems)
        result.objects += len(scan.ann)
        if size is not None and len(scan.ann):
            result.problems.extend(_outside_problems(
                label, scan.ann.polygons, scan.lines, size[0], size[1],
                outside_margin))
    # by image name, so an image's problems and its label file's are together
    result.problems.sort(key=lambda p: (osp.splitext(osp.basename(
        p.path))[0], str(p.path), p.line or 0))
    return result

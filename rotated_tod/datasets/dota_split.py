"""Split huge DOTA images into fixed-size patches (single or multi scale).

The layout and labels follow the DOTA devkit (``ImgSplit_multi_process``):

* For each ``rate`` the image is resized by ``rate`` and windows of
  ``patch_size`` slide over it with stride ``patch_size - gap``; the last
  window of a row/column is moved back to end at the image border (so an
  image side of length ``L`` gets ``1`` window if ``L <= patch_size``, else
  ``ceil((L - patch_size) / stride) + 1``). Border patches are padded to the
  full size with ``pad_value`` (as mmrotate's ``img_split.py`` does).
* Patches are named ``{image}__{rate}__{x}___{y}`` with ``(x, y)`` the window
  origin in the *resized* image, so a patch point maps back to the image by
  ``x_img = (x_patch + x) / rate`` (the devkit's ``ResultMerge`` rule, parsed
  by :func:`rotated_tod.core.fileio.parse_patch_id`). ``rate`` is
  written in its shortest exact form: ``1``, ``0.5``, ``1.5``. (mmrotate's
  own ``img_split.py`` writes the window size there instead, which its merge
  ignores; ours carries the scale the merge needs.)
* An object meets a window when its intersection with the window (clipped to
  the image) has positive area. With ``IoF = area(object & window) /
  area(object)``: ``IoF == 1`` keeps the object as is; otherwise the
  intersection polygon, reduced to 4 vertices, is written, keeping the
  object's difficult flag when ``IoF > iof_thr`` and marked difficult
  otherwise (the devkit writes difficulty ``2`` there).

Two deliberate departures from the devkit, both so that no object part is
left unlabelled (it would be trained as background): an intersection with
3 vertices becomes a quadrilateral by adding the midpoint of its longest edge,
and one with more than 5 vertices is reduced by repeatedly merging the two
ends of its shortest edge (the devkit's 5 -> 4 rule, repeated); the devkit
drops both. A clipped polygon whose area is zero once written with one
decimal is dropped, since it is no object.

Resuming: the settings are stored in ``out_dir/split_settings.json`` (a
different setting in the same folder is an error) and each finished image in
``out_dir/.done/{image}.json`` with its patch names; an image whose marker
exists and whose patches are all present is skipped. Every file is written
atomically, so an interrupted run leaves no half-written patch.

Bad input: a run stopped by an invalid label line or an unreadable image
raises :class:`~rotated_tod.core.fileio.InputError` noting how many images are
done (running again resumes). ``on_invalid='skip'`` drops invalid objects
(never their image) with a warning per object and a count at the end. An
image without a label file is an error before any work; a label file without
an image is not split, with a warning naming it.
"""
import contextlib
import json
import logging
import math
import os
import os.path as osp
from dataclasses import asdict, dataclass
from functools import partial
from multiprocessing import get_all_start_methods, get_context
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from shapely.geometry import Polygon, box
from shapely.geometry.polygon import orient
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from ..core.fileio import (
    DOTAAnnotation,
    InputError,
    MissingInputError,
    atomic_write_image,
    atomic_write_text,
    check_on_invalid,
    handle_invalid,
    list_label_files,
    patch_name,
    polygon_area,
    read_image,
    resolve_classes,
    scan_dota_labels,
    warn_skipped,
    write_dota_labels,
)

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp')
PadValue = Union[int, Tuple[int, int, int]]
# label files without an image named in a warning; the count covers all
MAX_NAMED = 10

logger = logging.getLogger('rotated_tod')


@dataclass(frozen=True)
class SplitSettings:
    """Everything that decides the content of a split.

    Attributes:
        patch_size: side of the square patches (pixels of the resized image).
        gap: overlap of neighbouring windows; the stride is
            ``patch_size - gap``.
        rates: image scales; each one gives its own set of patches.
        iof_thr: cut objects with IoF at or below this become difficult.
        padding: pad border patches to ``patch_size``.
        pad_value: fill value, one value or a BGR triple.
        keep_empty: also write patches that contain no object.
        save_ext: image extension of the patches.
        classes: the class names labels are parsed with.
    """
    patch_size: int = 1024
    gap: int = 200
    rates: Tuple[float, ...] = (1.0, )
    iof_thr: float = 0.7
    padding: bool = True
    pad_value: PadValue = 0
    keep_empty: bool = True
    save_ext: str = '.png'
    classes: Tuple[str, ...] = ()

    def __post_init__(self):
        if self.patch_size <= 0:
            raise ValueError(f'patch_size must be positive, got '
                             f'{self.patch_size}')
        if not 0 <= self.gap < self.patch_size:
            raise ValueError(f'gap must lie in [0, patch_size), got gap '
                             f'{self.gap} for patch_size {self.patch_size}')
        if not self.rates or any(r <= 0 for r in self.rates):
            raise ValueError(f'rates must be positive, got {self.rates}')
        if isinstance(self.pad_value, tuple) and len(self.pad_value) != 3:
            raise ValueError(f'pad_value must be one value or a BGR triple, '
                             f'got {self.pad_value}')
        if not 0 <= self.iof_thr <= 1:
            raise ValueError(f'iof_thr must lie in [0, 1], got '
                             f'{self.iof_thr}')


def _window_starts(length: int, patch_size: int, stride: int) -> List[int]:
    if length <= patch_size:
        return [0]
    count = math.ceil((length - patch_size) / stride) + 1
    starts = [stride * i for i in range(count)]
    starts[-1] = length - patch_size
    return starts


def sliding_windows(width: int, height: int, patch_size: int,
                    gap: int) -> np.ndarray:
    """(K, 4) int64 windows ``x0, y0, x0 + patch_size, y0 + patch_size`` over
    a ``width x height`` image, x-major (all rows of the first column
    first), the layout of the devkit and of mmrotate's ``slide_window``."""
    if not 0 <= gap < patch_size:
        raise ValueError(f'gap must lie in [0, patch_size), got gap {gap} '
                         f'for patch_size {patch_size}')
    stride = patch_size - gap
    xs = _window_starts(width, patch_size, stride)
    ys = _window_starts(height, patch_size, stride)
    starts = np.array([(x, y) for x in xs for y in ys], np.int64)
    return np.concatenate([starts, starts + patch_size], axis=1)


def scaled_size(width: int, height: int, rate: float) -> Tuple[int, int]:
    """``(width, height)`` of an image resized by ``rate``: each side
    ``round(side * rate)``, at least 1."""
    if rate == 1:
        return int(width), int(height)
    return max(1, round(width * rate)), max(1, round(height * rate))


def resize_by_rate(image: np.ndarray, rate: float) -> np.ndarray:
    """The image scaled to :func:`scaled_size` (area averaging when
    shrinking, bicubic when enlarging)."""
    if rate == 1:
        return image
    size = scaled_size(image.shape[1], image.shape[0], rate)
    interpolation = cv2.INTER_AREA if rate < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interpolation)


def crop_patch(image: np.ndarray, window: Sequence[int], padding: bool = True,
               pad_value: PadValue = 0) -> np.ndarray:
    """The pixels of ``window = (x0, y0, x1, y1)``; with ``padding`` the part
    outside the image is filled with ``pad_value``."""
    x0, y0, x1, y1 = (int(v) for v in window)
    patch = image[y0:y1, x0:x1]
    if not padding or patch.shape[:2] == (y1 - y0, x1 - x0):
        return np.ascontiguousarray(patch)
    out = np.empty((y1 - y0, x1 - x0) + image.shape[2:], image.dtype)
    out[...] = pad_value
    out[:patch.shape[0], :patch.shape[1]] = patch
    return out


def reduce_to_quadrilateral(points: np.ndarray) -> Optional[np.ndarray]:
    """(n, 2) convex polygon -> (4, 2), ``None`` below 3 vertices.

    More than 4 vertices: the two ends of the shortest edge are merged into
    their midpoint until 4 remain (the devkit's ``GetPoly4FromPoly5``,
    repeated). 3 vertices: the midpoint of the longest edge is added.
    """
    pts = [np.asarray(p, np.float64) for p in points]
    if len(pts) < 3:
        return None
    if len(pts) == 3:
        edges = [np.linalg.norm(pts[(i + 1) % 3] - pts[i]) for i in range(3)]
        i = int(np.argmax(edges))
        pts.insert(i + 1, (pts[i] + pts[(i + 1) % 3]) / 2)
    while len(pts) > 4:
        n = len(pts)
        edges = [np.linalg.norm(pts[(i + 1) % n] - pts[i]) for i in range(n)]
        i = int(np.argmin(edges))
        merged = (pts[i] + pts[(i + 1) % n]) / 2
        if i + 1 < n:
            pts[i:i + 2] = [merged]
        else:
            pts = [merged] + pts[1:-1]
    return np.stack(pts)


def best_vertex_order(quad: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """The cyclic shift of (4, 2) ``quad`` closest (sum of squared vertex
    distances) to (4, 2) ``reference``, so a clipped object keeps the first
    vertex of its original polygon (the devkit's
    ``choose_best_pointorder_fit_another``)."""
    shifts = [np.roll(quad, -k, axis=0) for k in range(4)]
    costs = [((s - reference)**2).sum() for s in shifts]
    return shifts[int(np.argmin(costs))]


def _intersection_vertices(inter) -> np.ndarray:
    """Vertices of a convex shapely polygon, image-clockwise, without repeated
    or collinear points."""
    coords = np.asarray(orient(inter, sign=1).exterior.coords)[:-1]
    keep = []
    n = len(coords)
    for i in range(n):
        prev, cur, nxt = coords[i - 1], coords[i], coords[(i + 1) % n]
        cross = (cur[0] - prev[0]) * (nxt[1] - cur[1]) - \
            (cur[1] - prev[1]) * (nxt[0] - cur[0])
        if np.linalg.norm(cur - prev) > 1e-9 and abs(cross) > 1e-9:
            keep.append(cur)
    return np.asarray(keep).reshape(-1, 2)


def window_annotation(ann: DOTAAnnotation, window: Sequence[int],
                      image_size: Tuple[int, int],
                      iof_thr: float = 0.7) -> DOTAAnnotation:
    """The objects of ``ann`` (in the coordinates of the image the window
    slides over) that meet ``window``, in patch coordinates.

    Args:
        ann: objects of the (resized) image.
        window: ``(x0, y0, x1, y1)``; the part beyond ``image_size`` is
            padding and holds no object.
        image_size: ``(width, height)`` of the (resized) image.
        iof_thr: see the module docstring.
    """
    x0, y0, x1, y1 = (float(v) for v in window)
    cx1, cy1 = min(x1, image_size[0]), min(y1, image_size[1])
    polys = ann.polygons.reshape(-1, 4, 2)
    lo, hi = polys.min(1), polys.max(1)
    meets = (lo[:, 0] < cx1) & (hi[:, 0] > x0) & (lo[:, 1] < cy1) & \
        (hi[:, 1] > y0)
    inside = (lo[:, 0] >= x0) & (hi[:, 0] <= cx1) & (lo[:, 1] >= y0) & \
        (hi[:, 1] <= cy1)
    clip = box(x0, y0, cx1, cy1)
    offset = np.array([x0, y0])
    out_polys, out_labels, out_difficult = [], [], []
    for i in np.nonzero(meets)[0]:
        if inside[i]:
            out_polys.append(polys[i] - offset)
            out_difficult.append(ann.difficult[i])
            out_labels.append(ann.labels[i])
            continue
        shape = Polygon(polys[i])
        if not shape.is_valid:
            shape = shape.convex_hull
        if shape.area <= 0:
            continue
        inter = shape.intersection(clip)
        if inter.is_empty or inter.area <= 0 or inter.geom_type != 'Polygon':
            continue
        iof = inter.area / shape.area
        quad = reduce_to_quadrilateral(_intersection_vertices(inter))
        if quad is None:
            continue
        quad = np.round(best_vertex_order(quad, polys[i]) - offset, 1)
        if polygon_area(quad.reshape(8)) <= 0:
            continue
        out_polys.append(quad)
        out_labels.append(ann.labels[i])
        out_difficult.append(bool(ann.difficult[i]) or iof <= iof_thr)
    if not out_polys:
        result = DOTAAnnotation.empty()
    else:
        result = DOTAAnnotation(
            np.stack(out_polys).reshape(-1, 8).astype(np.float64),
            np.asarray(out_labels, np.int64), np.asarray(out_difficult, bool))
    result.meta = dict(ann.meta)
    return result


def scale_annotation(ann: DOTAAnnotation, rate: float) -> DOTAAnnotation:
    """Objects of an image resized by ``rate``; a numeric ``gsd`` header
    (metres per pixel) becomes ``gsd / rate``."""
    meta = dict(ann.meta)
    if rate != 1 and 'gsd' in meta:
        with contextlib.suppress(ValueError):  # a non-numeric gsd stays
            meta['gsd'] = repr(float(meta['gsd']) / rate)
    return DOTAAnnotation(ann.polygons * rate, ann.labels, ann.difficult,
                          meta)


def split_image(image_path: str,
                out_dir: str,
                settings: SplitSettings,
                label_path: Optional[str] = None,
                on_invalid: str = 'error') -> Dict[str, int]:
    """Write the patches (and, with ``label_path``, their labels) of one
    image to ``out_dir/images`` and ``out_dir/annfiles``.

    Args:
        on_invalid: ``'error'`` or ``'skip'`` for invalid label lines (see
            :func:`~rotated_tod.core.fileio.handle_invalid`).

    Returns:
        ``dict(patches=..., objects=..., skipped=0|1, invalid=...)`` where
        ``objects`` counts the objects written over all patches,
        ``skipped`` says the image was already done and ``invalid`` counts
        the objects dropped by ``on_invalid='skip'``.
    """
    image_id = osp.splitext(osp.basename(image_path))[0]
    if '__' in image_id:
        raise InputError(image_path, 'an image name must not contain "__", '
                         'which separates the fields of patch names')
    marker = osp.join(out_dir, '.done', image_id + '.json')
    if _is_done(marker, out_dir, settings, label_path is not None):
        return dict(patches=0, objects=0, skipped=1, invalid=0)
    ann, invalid = None, 0
    if label_path is not None:
        if not osp.isfile(label_path):
            raise MissingInputError(label_path,
                                    f'no label file for image {image_path}')
        scan = scan_dota_labels(label_path, settings.classes)
        ann, invalid = scan.ann, handle_invalid(scan.problems, on_invalid)
    image = read_image(image_path)
    names, num_objects = [], 0
    for rate in settings.rates:
        resized = resize_by_rate(image, rate)
        height, width = resized.shape[:2]
        scaled = scale_annotation(ann, rate) if ann is not None else None
        windows = sliding_windows(width, height, settings.patch_size,
                                  settings.gap)
        for window in windows:
            name = patch_name(image_id, rate, window[0], window[1])
            if scaled is not None:
                patch_ann = window_annotation(scaled, window, (width, height),
                                              settings.iof_thr)
                if not len(patch_ann) and not settings.keep_empty:
                    continue
                write_dota_labels(
                    osp.join(out_dir, 'annfiles', name + '.txt'),
                    patch_ann.polygons,
                    [settings.classes[c] for c in patch_ann.labels],
                    patch_ann.difficult, patch_ann.meta)
                num_objects += len(patch_ann)
            atomic_write_image(
                osp.join(out_dir, 'images', name + settings.save_ext),
                crop_patch(resized, window, settings.padding,
                           settings.pad_value))
            names.append(name)
    atomic_write_text(marker, json.dumps(dict(patches=names)))
    return dict(patches=len(names), objects=num_objects, skipped=0,
                invalid=invalid)


def _is_done(marker: str, out_dir: str, settings: SplitSettings,
             with_labels: bool) -> bool:
    if not osp.isfile(marker):
        return False
    with open(marker, encoding='utf-8') as f:
        names = json.load(f)['patches']
    for name in names:
        if not osp.isfile(osp.join(out_dir, 'images',
                                   name + settings.save_ext)):
            return False
        if with_labels and not osp.isfile(
                osp.join(out_dir, 'annfiles', name + '.txt')):
            return False
    return True


def list_images(img_dir: str) -> List[str]:
    """Sorted image paths of ``img_dir``; a missing folder is an error."""
    if not osp.isdir(img_dir):
        raise MissingInputError(img_dir, 'image folder not found')
    return sorted(
        osp.join(img_dir, f) for f in os.listdir(img_dir)
        if osp.splitext(f)[1].lower() in IMAGE_SUFFIXES)


def _check_settings(out_dir: str, settings: SplitSettings,
                    with_labels: bool) -> None:
    """Store the settings, or check they equal those of an earlier run."""
    record = dict(asdict(settings), with_labels=with_labels)
    record = json.loads(json.dumps(record))
    path = osp.join(out_dir, 'split_settings.json')
    if osp.isfile(path):
        with open(path, encoding='utf-8') as f:
            previous = json.load(f)
        if previous != record:
            changed = sorted(k for k in set(record) | set(previous)
                             if record.get(k) != previous.get(k))
            raise InputError(
                path, f'{out_dir} holds a split made with other settings '
                f'({", ".join(changed)}); use another output folder')
        return
    atomic_write_text(path, json.dumps(record, indent=1))


def _split_worker(task: Tuple[str, Optional[str]], out_dir: str,
                  settings: SplitSettings, on_invalid: str) -> Dict[str, int]:
    image_path, label_path = task
    return split_image(image_path, out_dir, settings, label_path, on_invalid)


def _label_tasks(images: List[str], ann_dir: str) -> list:
    """``(image, label file)`` pairs; an image without a label file is an
    error, a label file without an image a warning (it is not split)."""
    tasks = [(path, osp.join(ann_dir,
                             osp.splitext(osp.basename(path))[0] + '.txt'))
             for path in images]
    unlabelled = [(image, label) for image, label in tasks
                  if not osp.isfile(label)]
    if unlabelled:
        image, label = unlabelled[0]
        more = f' (and {len(unlabelled) - 1} more images)' if len(
            unlabelled) > 1 else ''
        raise MissingInputError(label,
                                f'no label file for image {image}{more}')
    used = {osp.normpath(label) for _, label in tasks}
    orphans = [osp.basename(f) for f in list_label_files(ann_dir)
               if osp.normpath(f) not in used]
    if orphans:
        named = ', '.join(orphans[:MAX_NAMED]) + (
            ', ...' if len(orphans) > MAX_NAMED else '')
        logger.warning('warning: %d label file(s) of %s have no image in the '
                       'image folder and are not split: %s', len(orphans),
                       ann_dir, named)
    return tasks


def split_dataset(img_dir: str,
                  out_dir: str,
                  ann_dir: Optional[str] = None,
                  patch_size: int = 1024,
                  gap: int = 200,
                  rates: Sequence[float] = (1.0, ),
                  iof_thr: float = 0.7,
                  padding: bool = True,
                  pad_value: PadValue = 0,
                  keep_empty: bool = True,
                  classes: Optional[Sequence[str]] = None,
                  dota_version: str = 'v1.0',
                  save_ext: str = '.png',
                  nproc: int = 1,
                  progress: bool = True,
                  on_invalid: str = 'error') -> Dict[str, int]:
    """Split every image of ``img_dir`` (labels ``ann_dir/{image}.txt``; no
    ``ann_dir`` is test mode: images only) into ``out_dir/images`` and
    ``out_dir/annfiles``. See the module docstring for the rules.

    Args:
        on_invalid: ``'error'`` stops at the first invalid label line;
            ``'skip'`` drops the object with a warning.

    Returns:
        totals ``images``, ``patches``, ``objects``, ``skipped`` (images
        already done by an earlier run), ``invalid`` (objects dropped by
        ``on_invalid='skip'``).

    Raises:
        InputError: bad input; its note says how many images are done.
    """
    check_on_invalid(on_invalid)
    if isinstance(pad_value, (list, tuple)):
        pad_value = tuple(int(v) for v in pad_value)
    settings = SplitSettings(
        patch_size=int(patch_size), gap=int(gap),
        rates=tuple(float(r) for r in rates), iof_thr=float(iof_thr),
        padding=bool(padding), pad_value=pad_value,
        keep_empty=bool(keep_empty), save_ext=save_ext,
        classes=resolve_classes(classes, dota_version))
    images = list_images(img_dir)
    if ann_dir is not None and not osp.isdir(ann_dir):
        raise MissingInputError(ann_dir, 'label folder not found')
    tasks = [(path, None) for path in images] if ann_dir is None else \
        _label_tasks(images, ann_dir)
    for sub in ('images', '.done') + (('annfiles', ) if ann_dir else ()):
        os.makedirs(osp.join(out_dir, sub), exist_ok=True)
    _check_settings(out_dir, settings, ann_dir is not None)
    worker = partial(_split_worker, out_dir=out_dir, settings=settings,
                     on_invalid=on_invalid)
    totals = dict(images=len(tasks), patches=0, objects=0, skipped=0,
                  invalid=0)
    parallel = nproc > 1 and len(tasks) > 1
    # warnings of the main process are written above the bar, not into its
    # line (forked workers hold stale copies of the bar: they log plainly);
    # the bar is closed before an error is printed, so it ends its line
    with (contextlib.nullcontext() if parallel else logging_redirect_tqdm(
            [logger])), tqdm(total=len(tasks), desc='split', unit='img',
                             disable=not progress) as bar:
        try:
            if parallel:
                with _pool_context().Pool(min(nproc, len(tasks))) as pool:
                    for stats in pool.imap_unordered(worker, tasks):
                        _accumulate(totals, stats, bar)
            else:
                for task in tasks:
                    _accumulate(totals, worker(task), bar)
        except InputError as err:
            done = sum(
                osp.isfile(osp.join(out_dir, '.done',
                                    osp.splitext(osp.basename(image))[0] +
                                    '.json')) for image, _ in tasks)
            err.note = (f'{done} of {len(tasks)} images done; running '
                        'again resumes')
            raise
    warn_skipped(totals['invalid'], f'the label files of {ann_dir}')
    return totals


def _pool_context():
    """``fork`` where the platform has it (workers only run numpy/cv2
    code, and start without re-importing the stack), else ``spawn``."""
    methods = get_all_start_methods()
    return get_context('fork' if 'fork' in methods else 'spawn')


def _accumulate(totals: Dict[str, int], stats: Dict[str, int], bar) -> None:
    for key in ('patches', 'objects', 'skipped', 'invalid'):
        totals[key] += stats[key]
    bar.update(1)

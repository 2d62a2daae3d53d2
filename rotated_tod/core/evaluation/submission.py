"""DOTA submission files: checked writing, strict reading (the line format
of Task1 files is :mod:`rotated_tod.core.fileio.dota`'s).

Layout written under ``out_dir``::

    Task1/Task1_<class>.txt   image score x1 y1 x2 y2 x3 y3 x4 y4
    Task2/Task2_<class>.txt   image score xmin ymin xmax ymax
    Task1.zip, Task2.zip      the class files at the zip root (what the
                              DOTA server takes)

Scores are written with 6 decimals, coordinates with 2
(:func:`~rotated_tod.core.fileio.dota.format_detection_lines`). One file per class,
empty when the class has no detection. Everything is validated before the
first write, and every file is written atomically, so an error never leaves
a partial submission behind.
"""
import io
import os.path as osp
import zipfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..bbox.transforms import as_polygons
from ..fileio import (
    MissingInputError,
    atomic_write_bytes,
    atomic_write_text,
    format_detection_lines,
    parse_task1,
)

# Fixed zip timestamps: the same detections give byte-identical zips.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def detections_to_polygons(dets: np.ndarray, where: str) -> np.ndarray:
    """(K, 6) ``cx cy w h theta score`` or (K, 9) ``x1 y1 ... x4 y4 score``
    detections -> (K, 9) float64 ``polygon, score``.

    Raises:
        ValueError: naming ``where``, for another shape or non-finite values.
    """
    dets = np.asarray(dets, np.float64)
    if dets.size == 0:
        return np.zeros((0, 9))
    if dets.ndim != 2 or dets.shape[1] not in (6, 9):
        raise ValueError(f'{where}: detections must be (K, 6) xywha+score or '
                         f'(K, 9) polygon+score, got shape {dets.shape}')
    if not np.all(np.isfinite(dets)):
        raise ValueError(f'{where}: non-finite detection values')
    return np.concatenate([as_polygons(dets[:, :-1]), dets[:, -1:]], 1)


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not name or len(name.split()) != 1 or \
            '/' in name:
        raise ValueError(f'{what} {name!r} cannot be written in a DOTA '
                         'submission (empty, whitespace or "/")')


def _zip_bytes(files: Dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
    return buf.getvalue()


def write_dota_submission(results: Dict[str, List[np.ndarray]],
                          classes: Sequence[str],
                          out_dir: str,
                          image_ids: Optional[Sequence[str]] = None,
                          allow_missing: bool = False,
                          task2: bool = True,
                          make_zip: bool = True) -> Dict[str, str]:
    """Write DOTA Task1 (and Task2) files and their zips.

    Args:
        results: image name -> per class (K, 6) ``cx cy w h theta score``
            (or (K, 9) polygon + score) arrays in full-image coordinates.
        classes: class names, in the order of the per-class arrays.
        out_dir: output folder (created).
        image_ids: the images the submission must cover (e.g. the test set).
        allow_missing: write even when images of ``image_ids`` have no
            entry in ``results``.
        task2: also write the horizontal-box Task2 files.
        make_zip: also write ``Task1.zip`` (and ``Task2.zip``).

    Returns:
        path relative to ``out_dir`` (``'Task1/Task1_plane.txt'``,
        ``'Task1.zip'``, ...) -> absolute path, for every file written.

    Raises:
        ValueError: images of ``image_ids`` missing from ``results`` (all
            listed; unless ``allow_missing``), images of ``results`` not in
            ``image_ids``, a wrong number of classes, a bad array or an
            unwritable name. Nothing is written then.
    """
    classes = list(classes)
    for name in classes:
        _check_name(name, 'class name')
    if len(set(classes)) != len(classes):
        raise ValueError(f'duplicate class names in {classes}')
    if image_ids is not None:
        wanted = set(image_ids)
        missing = sorted(wanted - set(results))
        extra = sorted(set(results) - wanted)
        if missing and not allow_missing:
            raise ValueError(
                f'{len(missing)} of {len(wanted)} images have no results: '
                f'{", ".join(missing)} (pass allow_missing=True to write '
                'an incomplete submission)')
        if extra:
            raise ValueError(f'results for images not in image_ids: '
                             f'{", ".join(extra)}')
    task1 = {c: [] for c in classes}
    task2_lines = {c: [] for c in classes}
    for image in sorted(results):
        _check_name(image, 'image name')
        per_class = results[image]
        if len(per_class) != len(classes):
            raise ValueError(f'image {image}: {len(per_class)} detection '
                             f'arrays for {len(classes)} classes')
        for name, dets in zip(classes, per_class):
            dets = detections_to_polygons(dets, f'image {image}, class {name}')
            if not len(dets):
                continue
            polys, scores = dets[:, :8], dets[:, 8:]
            task1[name] += format_detection_lines(image, scores, polys)
            if task2:
                hbb = np.stack([polys[:, 0::2].min(1), polys[:, 1::2].min(1),
                                polys[:, 0::2].max(1), polys[:, 1::2].max(1)], 1)
                task2_lines[name] += format_detection_lines(image, scores, hbb)
    tasks = {'Task1': task1}
    if task2:
        tasks['Task2'] = task2_lines
    written = {}
    for task, lines in tasks.items():
        texts = {f'{task}_{c}.txt': ''.join(lines[c]) for c in classes}
        for file_name, text in texts.items():
            rel = f'{task}/{file_name}'
            path = osp.abspath(osp.join(out_dir, task, file_name))
            atomic_write_text(path, text)
            written[rel] = path
        if make_zip:
            path = osp.abspath(osp.join(out_dir, f'{task}.zip'))
            atomic_write_bytes(path, _zip_bytes(texts))
            written[f'{task}.zip'] = path
    return written


@dataclass
class SubmissionFile:
    """One file of a submission, read when asked (a reader holds one file's
    bytes at a time).

    Attributes:
        name: for messages (``zip!member`` inside a zip).
        path: the file, or the zip holding it.
        member: the zip member, None for a plain file.
    """
    name: str
    path: str
    member: Optional[str] = None

    def read(self) -> bytes:
        if self.member is None:
            with open(self.path, 'rb') as f:
                return f.read()
        with zipfile.ZipFile(self.path) as zf:
            return zf.read(self.member)

    def size(self) -> int:
        """Bytes of the file (uncompressed inside a zip)."""
        if self.member is None:
            return osp.getsize(self.path)
        with zipfile.ZipFile(self.path) as zf:
            return zf.getinfo(self.member).file_size


def task1_files(dir_or_zip: str, classes: Sequence[str],
                task: str = 'Task1') -> List[SubmissionFile]:
    """The ``<task>_<class>.txt`` files of a submission, in class order.

    ``dir_or_zip`` is a folder holding them directly or under ``<task>/``,
    or a zip holding them at its root (or under ``<task>/``).

    Raises:
        FileNotFoundError: naming the missing file.
    """
    names = [f'{task}_{c}.txt' for c in classes]
    if osp.isfile(dir_or_zip) and zipfile.is_zipfile(dir_or_zip):
        with zipfile.ZipFile(dir_or_zip) as zf:
            members = set(zf.namelist())
            out = []
            for name in names:
                member = name if name in members else f'{task}/{name}'
                if member not in members:
                    raise MissingInputError(dir_or_zip, f'no {name} in zip')
                out.append(SubmissionFile(f'{dir_or_zip}!{member}',
                                          dir_or_zip, member))
            return out
    if not osp.isdir(dir_or_zip):
        raise MissingInputError(dir_or_zip, 'no such folder or zip file')
    folder = dir_or_zip
    if not osp.exists(osp.join(folder, names[0])) and osp.isdir(
            osp.join(folder, task)):
        folder = osp.join(folder, task)
    out = []
    for name in names:
        path = osp.join(folder, name)
        if not osp.isfile(path):
            raise MissingInputError(path, 'submission file not found')
        out.append(SubmissionFile(path, path))
    return out


def read_dota_submission(dir_or_zip: str,
                         classes: Sequence[str]) -> Dict[str, List[np.ndarray]]:
    """Read Task1 files back (see :func:`task1_files` for where).

    Returns:
        image name -> per class (K, 9) ``x1 y1 ... x4 y4 score`` float64
        arrays (Task1 holds polygons), for every image with a detection, in
        file order; :func:`~rotated_tod.core.evaluation.eval_polygon_map`
        takes these arrays directly.
    """
    per_image: Dict[str, List[np.ndarray]] = {}
    for c, source in enumerate(task1_files(dir_or_zip, classes)):
        records = parse_task1(source.read(), source.name)
        rows = np.concatenate([records.polygons, records.scores[:, None]], 1)
        order = np.argsort(records.image_index, kind='stable')
        bounds = np.searchsorted(records.image_index[order],
                                 np.arange(len(records.names) + 1))
        for u, image in enumerate(records.names):
            arrays = per_image.setdefault(
                image, [np.zeros((0, 9)) for _ in classes])
            arrays[c] = rows[order[bounds[u]:bounds[u + 1]]]
    return per_image

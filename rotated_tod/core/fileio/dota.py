"""The DOTA file formats: ``labelTxt`` files (class sets, strict parsing,
atomic writing) and patch names ``{image}__{rate}__{x}___{y}``.

A DOTA label line is ``x1 y1 x2 y2 x3 y3 x4 y4 class difficult`` (the
difficult flag may be missing in some releases, meaning 0), optionally after
header lines ``imagesource:...`` and ``gsd:...``. Every parse error names the
file and the 1-based line.
"""
import os
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence

import numpy as np

from .atomic import atomic_write_text

DOTA_V1_0_CLASSES = (
    'plane', 'baseball-diamond', 'bridge', 'ground-track-field',
    'small-vehicle', 'large-vehicle', 'ship', 'tennis-court',
    'basketball-court', 'storage-tank', 'soccer-ball-field', 'roundabout',
    'harbor', 'swimming-pool', 'helicopter')
DOTA_V1_5_CLASSES = DOTA_V1_0_CLASSES + ('container-crane', )
DOTA_V2_0_CLASSES = DOTA_V1_5_CLASSES + ('airport', 'helipad')

DOTA_CLASSES: Dict[str, tuple] = {
    'v1.0': DOTA_V1_0_CLASSES,
    'v1.5': DOTA_V1_5_CLASSES,
    'v2.0': DOTA_V2_0_CLASSES,
}

HEADER_KEYS = ('imagesource', 'gsd')


class DOTALabelError(ValueError):
    """A malformed DOTA label file; the message starts with ``path:line:``."""


@dataclass
class DOTAAnnotation:
    """The objects of one image.

    Attributes:
        polygons: (N, 8) float64 quadrilaterals, vertices in file order.
        labels: (N,) int64 indices into the class tuple used to parse.
        difficult: (N,) bool.
        meta: header values, e.g. ``{'imagesource': 'GoogleEarth'}``.
    """
    polygons: np.ndarray
    labels: np.ndarray
    difficult: np.ndarray
    meta: Dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    @classmethod
    def empty(cls) -> 'DOTAAnnotation':
        return cls(np.zeros((0, 8)), np.zeros((0, ), np.int64),
                   np.zeros((0, ), bool))


def resolve_classes(classes: Optional[Sequence[str]] = None,
                    version: str = 'v1.0') -> tuple:
    """``classes`` if given, else the DOTA class set of ``version``."""
    if classes is not None:
        return tuple(classes)
    if version not in DOTA_CLASSES:
        raise KeyError(f'unknown DOTA version {version!r}; '
                       f'choose one of {sorted(DOTA_CLASSES)}')
    return DOTA_CLASSES[version]


def polygon_area(polygons: np.ndarray) -> np.ndarray:
    """Unsigned shoelace area of (..., 8) polygons."""
    p = np.asarray(polygons, dtype=np.float64).reshape(
        *np.shape(polygons)[:-1], 4, 2)
    x, y = p[..., 0], p[..., 1]
    return 0.5 * np.abs(
        (x * np.roll(y, -1, axis=-1) - np.roll(x, -1, axis=-1) * y).sum(-1))


def parse_dota_labels(path: str,
                      classes: Sequence[str],
                      min_area: float = 0.0) -> DOTAAnnotation:
    """Parse one DOTA label file strictly.

    Args:
        path: the ``.txt`` file.
        classes: the class names; an unknown name is an error.
        min_area: polygons with area <= ``min_area`` are degenerate: error.

    Raises:
        DOTALabelError: ``path:line: reason`` for the first bad line.
    """
    index = {c: i for i, c in enumerate(classes)}
    polygons, labels, difficult, meta = [], [], [], {}
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        key = line.split(':', 1)[0]
        if ':' in line and key in HEADER_KEYS and not polygons:
            meta[key] = line.split(':', 1)[1].strip()
            continue
        tokens = line.split()
        where = f'{path}:{lineno}'
        if len(tokens) not in (9, 10):
            raise DOTALabelError(
                f'{where}: expected "x1 y1 ... x4 y4 class [difficult]" '
                f'(9 or 10 fields), got {len(tokens)}: {line!r}')
        try:
            coords = [float(t) for t in tokens[:8]]
        except ValueError:
            raise DOTALabelError(
                f'{where}: non-numeric coordinate in {line!r}') from None
        if not np.all(np.isfinite(coords)):
            raise DOTALabelError(f'{where}: non-finite coordinate in {line!r}')
        name = tokens[8]
        if name not in index:
            raise DOTALabelError(
                f'{where}: unknown class {name!r}; known: {", ".join(classes)}')
        flag = tokens[9] if len(tokens) == 10 else '0'
        if flag not in ('0', '1'):
            raise DOTALabelError(
                f'{where}: difficult flag must be 0 or 1, got {flag!r}')
        if polygon_area(np.array(coords)) <= min_area:
            raise DOTALabelError(
                f'{where}: degenerate polygon (area <= {min_area}): {line!r}')
        polygons.append(coords)
        labels.append(index[name])
        difficult.append(flag != '0')
    if not polygons:
        ann = DOTAAnnotation.empty()
        ann.meta = meta
        return ann
    return DOTAAnnotation(
        np.asarray(polygons, np.float64), np.asarray(labels, np.int64),
        np.asarray(difficult, bool), meta)


def format_dota_labels(polygons: np.ndarray,
                       names: Sequence[str],
                       difficult: Optional[Sequence[bool]] = None,
                       meta: Optional[Dict[str, str]] = None) -> str:
    """The text of a label file; coordinates written with up to 1 decimal."""
    polygons = np.asarray(polygons, np.float64).reshape(-1, 8)
    if difficult is None:
        difficult = np.zeros(len(polygons), bool)
    if not len(polygons) == len(names) == len(difficult):
        raise ValueError('polygons, names and difficult differ in length')
    out = [f'{k}:{v}' for k, v in (meta or {}).items()]
    for poly, name, diff in zip(polygons, names, difficult):
        coords = ' '.join(f'{c:.1f}'.rstrip('0').rstrip('.') for c in poly)
        out.append(f'{coords} {name} {int(bool(diff))}')
    return '\n'.join(out) + ('\n' if out else '')


def write_dota_labels(path: str,
                      polygons: np.ndarray,
                      names: Sequence[str],
                      difficult: Optional[Sequence[bool]] = None,
                      meta: Optional[Dict[str, str]] = None) -> None:
    """Write a label file atomically (see :func:`format_dota_labels`)."""
    atomic_write_text(path, format_dota_labels(polygons, names, difficult,
                                               meta))


def list_label_files(ann_dir: str) -> list:
    """Sorted ``.txt`` paths of ``ann_dir``; a missing folder is an error."""
    if not os.path.isdir(ann_dir):
        raise FileNotFoundError(f'{ann_dir}: annotation folder not found')
    return sorted(
        os.path.join(ann_dir, f) for f in os.listdir(ann_dir)
        if f.endswith('.txt'))


def format_rate(rate: float) -> str:
    """The shortest decimal that reads back as ``rate``: ``1``, ``0.5``."""
    return np.format_float_positional(float(rate), trim='-')


def patch_name(image_id: str, rate: float, x: int, y: int) -> str:
    """``'{image}__{rate}__{x}___{y}'``, the DOTA devkit's patch name for the
    window at ``(x, y)`` of ``image_id`` resized by ``rate``."""
    return f'{image_id}__{format_rate(rate)}__{int(x)}___{int(y)}'


def parse_patch_id(patch_id: str) -> tuple:
    """``'{image}__{rate}__{x}___{y}'`` -> ``(image, rate, x, y)``; a name
    without the pattern is a whole image: ``(name, 1.0, 0, 0)``."""
    if '__' not in patch_id:
        return patch_id, 1.0, 0, 0
    try:
        image, rest = patch_id.split('__', 1)
        rate, xy = rest.split('__', 1)
        x, y = xy.split('___')
        return image, float(rate), int(x), int(y)
    except ValueError:
        raise ValueError(f'patch name {patch_id!r} is not of the form '
                         '{image}__{rate}__{x}___{y}') from None

"""The DOTA file formats: ``labelTxt`` files (class sets, strict parsing,
atomic writing), Task1 submission files (fast strict reading, formatting;
the section at the end) and patch names ``{image}__{rate}__{x}___{y}``.

A DOTA label line is ``x1 y1 x2 y2 x3 y3 x4 y4 class difficult`` (the
difficult flag may be missing in some releases, meaning 0), optionally after
header lines ``imagesource:...`` and ``gsd:...``. Every parse error names the
file and the 1-based line. Files may start with a UTF-8 byte-order mark
(saved by some Windows editors) and use CRLF line ends.
"""
import io
import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, NamedTuple, Optional, Sequence, Union

import numpy as np

from .atomic import atomic_write_text
from .input_error import InputError, MissingInputError, handle_invalid

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
# A plain object line: 8 unsigned-or-negative decimals, a printable ASCII
# class name and an optional 0/1 flag, each after a single space. Files made
# only of such lines (after the header) take the vectorised reader.
_PLAIN_NUMBER = r'-?[0-9]+(?:\.[0-9]+)?'
_PLAIN_OBJECT = rf'(?:{_PLAIN_NUMBER} ){{8}}[!-~]+(?: [01])?'
_PLAIN_OBJECTS = re.compile(rf'(?:{_PLAIN_OBJECT}\n)*{_PLAIN_OBJECT}',
                            re.ASCII)


class DOTALabelError(InputError):
    """A bad line of a DOTA label file: ``path:line: reason``; ``kind`` is
    ``'bad line'``, ``'unknown class'``, ``'degenerate polygon'`` or
    ``'unreadable label file'``."""

    def __init__(self, path: str, reason: Optional[str] = None,
                 line: Optional[int] = None, kind: str = 'bad line'):
        super().__init__(path, reason, line, kind)


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
    p = np.asarray(polygons, dtype=np.float64)
    # the following vertices by slicing (faster than np.roll or an index)
    q = np.concatenate([p[..., 2:], p[..., :2]], -1)
    x, y = p[..., 0::2], p[..., 1::2]
    return 0.5 * np.abs((x * q[..., 1::2] - q[..., 0::2] * y).sum(-1))


class LabelScan(NamedTuple):
    """What :func:`scan_dota_labels` found in one label file.

    Attributes:
        ann: the valid objects, in file order.
        problems: a :class:`DOTALabelError` per invalid line.
        lines: (N,) int64 1-based line of each object of ``ann``.
    """
    ann: DOTAAnnotation
    problems: List[DOTALabelError]
    lines: np.ndarray


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _parse_object_line(line: str, index: Dict[str, int],
                       min_area: float) -> tuple:
    """``(coords, label, difficult)`` of one object line, or ``(kind,
    reason)`` of its first problem as a ``str`` pair."""
    tokens = line.split()
    numeric = next((k for k, t in enumerate(tokens) if not _is_number(t)),
                   len(tokens))
    if numeric != 8 and 1 <= len(tokens) - numeric <= 2:
        return 'bad line', (f'expected 8 coordinates "x1 y1 ... x4 y4" '
                            f'before the class, got {numeric}: {line!r}')
    if len(tokens) not in (9, 10):
        return 'bad line', (f'expected "x1 y1 ... x4 y4 class [difficult]" '
                            f'(9 or 10 fields), got {len(tokens)}: {line!r}')
    bad = next((t for t in tokens[:8] if not _is_number(t)), None)
    if bad is not None:
        return 'bad line', f'non-numeric coordinate {bad!r} in {line!r}'
    coords = [float(t) for t in tokens[:8]]
    if not np.all(np.isfinite(coords)):
        return 'bad line', f'non-finite coordinate in {line!r}'
    name = tokens[8]
    if name not in index:
        return 'unknown class', (f'unknown class {name!r}; known: '
                                 f'{", ".join(index)}')
    flag = tokens[9] if len(tokens) == 10 else '0'
    if flag not in ('0', '1'):
        return 'bad line', f'difficult flag must be 0 or 1, got {flag!r}'
    if polygon_area(np.array(coords)) <= min_area:
        return 'degenerate polygon', (f'degenerate polygon (area <= '
                                      f'{min_area:g}): {line!r}')
    return coords, index[name], flag != '0'


def _header(line: str) -> Optional[tuple]:
    """``(key, value)`` of a stripped header line ``key:value``, else None."""
    key, colon, value = line.partition(':')
    if colon and key in HEADER_KEYS:
        return key, value.strip()
    return None


def _scan_plain(lines: List[str], index: Dict[str, int],
                min_area: float) -> Optional[LabelScan]:
    """:func:`scan_dota_labels` of the lines of a file whose object lines
    are all plain (``_PLAIN_OBJECTS``: no blank line among them, the
    difficult flag on every line or on none) and all valid, parsed at once;
    None for any other file, which the line parser then reads. On the plain
    numbers both parsers round the same decimal correctly, so they agree."""
    meta, first = {}, 0
    for raw in lines:
        line = raw.strip()
        if line:
            header = _header(line)
            if header is None:
                break
            meta[header[0]] = header[1]
        first += 1
    num = len(lines) - first
    if num == 0:
        ann = DOTAAnnotation.empty()
        ann.meta = meta
        return LabelScan(ann, [], np.zeros(0, np.int64))
    body = '\n'.join(lines[first:])
    if _PLAIN_OBJECTS.fullmatch(body) is None:
        return None
    tokens = body.split()
    fields = len(tokens) // num
    if len(tokens) != fields * num:
        return None
    labels = [index.get(name, -1) for name in tokens[8::fields]]
    if -1 in labels:
        return None
    polygons = np.array([tokens[k::fields] for k in range(8)], np.float64).T
    if not np.all(np.isfinite(polygons)) or np.any(
            polygon_area(polygons) <= min_area):
        return None
    difficult = np.array(tokens[9::fields]) == '1' if fields == 10 else \
        np.zeros(num, bool)
    ann = DOTAAnnotation(np.ascontiguousarray(polygons),
                         np.array(labels, np.int64), difficult, meta)
    return LabelScan(ann, [], np.arange(first + 1, len(lines) + 1))


def scan_dota_labels(path: str,
                     classes: Sequence[str],
                     min_area: float = 0.0) -> LabelScan:
    """Parse one DOTA label file, keeping the valid objects and collecting
    every bad line instead of stopping at the first.

    Args:
        path: the ``.txt`` file (UTF-8, an optional byte-order mark, LF or
            CRLF line ends).
        classes: the class names; an unknown name is a problem.
        min_area: polygons with area <= ``min_area`` are degenerate.

    Returns:
        :class:`LabelScan`; a file that is not UTF-8 text is one problem
        without line and no object.
    """
    index = {c: i for i, c in enumerate(classes)}
    polygons, labels, difficult, meta, problems = [], [], [], {}, []
    object_lines = []
    try:
        with open(path, encoding='utf-8-sig') as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise MissingInputError(path, 'label file not found') from None
    except UnicodeDecodeError as err:
        problems.append(DOTALabelError(
            path, f'not UTF-8 text ({err.reason} at byte {err.start})',
            kind='unreadable label file'))
        lines = []
    plain = None if problems else _scan_plain(lines, index, min_area)
    if plain is not None:
        return plain
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        header = _header(line)
        if header is not None and not polygons and not problems:
            meta[header[0]] = header[1]
            continue
        parsed = _parse_object_line(line, index, min_area)
        if isinstance(parsed[0], str):
            problems.append(DOTALabelError(path, parsed[1], lineno,
                                           kind=parsed[0]))
            continue
        polygons.append(parsed[0])
        labels.append(parsed[1])
        difficult.append(parsed[2])
        object_lines.append(lineno)
    if not polygons:
        ann = DOTAAnnotation.empty()
        ann.meta = meta
    else:
        ann = DOTAAnnotation(
            np.asarray(polygons, np.float64), np.asarray(labels, np.int64),
            np.asarray(difficult, bool), meta)
    return LabelScan(ann, problems, np.asarray(object_lines, np.int64))


def parse_dota_labels(path: str,
                      classes: Sequence[str],
                      min_area: float = 0.0,
                      on_invalid: str = 'error') -> DOTAAnnotation:
    """Parse one DOTA label file strictly (see :func:`scan_dota_labels`).

    Args:
        path: the ``.txt`` file.
        classes: the class names; an unknown name is invalid.
        min_area: polygons with area <= ``min_area`` are degenerate: invalid.
        on_invalid: ``'error'`` raises on the first invalid line;
            ``'skip'`` drops its object with a warning naming ``path:line``.

    Raises:
        DOTALabelError: ``path:line: reason`` for the first bad line.
        MissingInputError: the file does not exist.
    """
    scan = scan_dota_labels(path, classes, min_area)
    handle_invalid(scan.problems, on_invalid)
    return scan.ann


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
        raise MissingInputError(ann_dir, 'annotation folder not found')
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


# DOTA Task1 submission files ---------------------------------------------
#
# One file per class, ``Task1_<class>.txt``, one detection a line:
# ``image score x1 y1 x2 y2 x3 y3 x4 y4``. A DOTA-val-sized submission holds
# about a million lines, so the reader parses whole files with numpy (a few
# passes over the bytes to find the lines and fields, numpy's C reader for the
# numbers) and keeps the line-by-line parser for files it does not recognise
# as plain (tabs, repeated spaces, non-ASCII names) and to name the first bad
# line.

TASK1_FIELDS = 10
SCORE_DECIMALS = 6
COORD_DECIMALS = 2
UTF8_BOM = b'\xef\xbb\xbf'
# Bytes parsed at once by the fast reader: its temporaries stay within about
# ten times this, whatever the file size.
TASK1_CHUNK_BYTES = 1 << 21
# Longest image name the fast reader takes (longer: the line parser).
_MAX_NAME_BYTES = 256


@dataclass
class Task1Records:
    """The detections of one Task1 file, in file order.

    Attributes:
        names: the distinct image names, sorted.
        image_index: (K,) int64 index into ``names`` of each detection.
        scores: (K,) float64.
        polygons: (K, 8) float64.
        lines: (K,) 1-based line numbers.
    """
    names: List[str]
    image_index: np.ndarray
    scores: np.ndarray
    polygons: np.ndarray
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.image_index)

    @property
    def images(self) -> List[str]:
        """The image name of each detection."""
        return [self.names[i] for i in self.image_index.tolist()]


def format_detection_lines(image: str, scores: np.ndarray,
                           coords: np.ndarray) -> List[str]:
    """``image score c1 ... cV`` lines (a Task1 line for V = 8 polygon
    coordinates, Task2 for V = 4 box coordinates), scores with
    :data:`SCORE_DECIMALS` and coordinates with :data:`COORD_DECIMALS`."""
    coords = np.asarray(coords, np.float64).reshape(len(scores), -1)
    fmt = f'{image} {{:.{SCORE_DECIMALS}f}}' + (
        f' {{:.{COORD_DECIMALS}f}}' * coords.shape[1]) + '\n'
    values = np.concatenate([np.reshape(scores, (-1, 1)), coords], 1)
    return [fmt.format(*row) for row in values.tolist()]


def parse_task1(data: Union[bytes, str], name: str) -> Task1Records:
    """Parse the content of a Task1 file strictly (blank lines are skipped,
    a UTF-8 byte-order mark at the start is ignored, CRLF line ends are
    taken).

    Args:
        data: the file's bytes (or text).
        name: the file name used in messages.

    Raises:
        InputError: ``name:line: reason`` for the first malformed line.
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    records = _parse_task1_fast(data)
    if records is None:
        records = _parse_task1_lines(data, name)
    return records


def read_task1_file(path: str) -> Task1Records:
    """:func:`parse_task1` of the file at ``path``."""
    if not os.path.isfile(path):
        raise MissingInputError(path, 'Task1 file not found')
    with open(path, 'rb') as f:
        return parse_task1(f.read(), path)


def _parse_task1_lines(data: bytes, name: str) -> Task1Records:
    """The strict line-by-line parser: any whitespace, any float syntax."""
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as err:
        raise InputError(name, 'not UTF-8 text',
                         data[:err.start].count(b'\n') + 1) from None
    images, rows, lines = [], [], []
    for k, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        if len(tokens) != TASK1_FIELDS:
            raise InputError(name, f'expected "image score x1 y1 ... x4 y4" '
                             f'({TASK1_FIELDS} fields), got {len(tokens)}', k)
        try:
            row = [float(t) for t in tokens[1:]]
        except ValueError:
            raise InputError(name, f'non-numeric value in {line.strip()!r}',
                             k) from None
        if not np.all(np.isfinite(row)):
            raise InputError(name, f'non-finite value in {line.strip()!r}', k)
        images.append(tokens[0])
        rows.append(row)
        lines.append(k)
    values = np.array(rows, np.float64).reshape(-1, TASK1_FIELDS - 1)
    names, index = np.unique(np.array(images, dtype=str), return_inverse=True)
    return Task1Records(names.tolist(), index.astype(np.int64).reshape(-1),
                        values[:, 0], values[:, 1:],
                        np.array(lines, np.int64))


def _parse_task1_fast(data: bytes) -> Optional[Task1Records]:
    """The vectorised parser for plain files: printable ASCII, fields split by
    single spaces, ``\\n`` or ``\\r\\n`` line ends, finite numbers that
    numpy's reader takes. None for anything else (the strict parser then
    decides), so both parsers agree on every file this one takes."""
    if b'\r' in data:
        data = data.replace(b'\r\n', b'\n')
        if b'\r' in data:
            return None
    parts, start, line = [], 0, 1
    while start < len(data):
        end = start + TASK1_CHUNK_BYTES
        stop = len(data) if end >= len(data) else data.rfind(
            b'\n', start, end) + 1
        if stop <= start:  # a line longer than a chunk
            stop = data.find(b'\n', end) + 1 or len(data)
        part = _parse_task1_chunk(data[start:stop], line)
        if part is None:
            return None
        parts.append(part)
        line += part[4]
        start = stop
    if not parts:
        empty = np.zeros(0, np.int64)
        return Task1Records([], empty, np.zeros(0), np.zeros((0, 8)), empty)
    names, inverse = np.unique(np.concatenate([p[0] for p in parts]),
                               return_inverse=True)
    offsets = np.cumsum([0] + [len(p[0]) for p in parts])
    index = np.concatenate([inverse[offsets[i] + p[1]]
                            for i, p in enumerate(parts)])
    values = np.concatenate([p[2] for p in parts])
    return Task1Records([n.decode('ascii') for n in names.tolist()],
                        index.astype(np.int64), values[:, 0], values[:, 1:],
                        np.concatenate([p[3] for p in parts]))


def _parse_task1_chunk(data: bytes, first_line: int) -> Optional[tuple]:
    """``(run names (R,) bytes, run index (K,), values (K, 9), lines (K,),
    number of newlines)`` of whole lines ``data`` starting at line
    ``first_line``, or None."""
    size = len(data)
    # padding keeps every field's window of bytes inside the buffer
    buf = np.frombuffer(data + b' ' * _MAX_NAME_BYTES, np.uint8)
    body = buf[:size]
    ends = np.flatnonzero(body == 10)
    newlines = len(ends)
    # bytes outside ' '...'~' other than newlines
    if not data.isascii() or b'\x7f' in data or np.count_nonzero(
            body < 32) != newlines:
        return None
    if not size or data[-1:] != b'\n':
        ends = np.append(ends, size)
    starts = np.concatenate(([0], ends[:-1] + 1))
    lines = np.arange(first_line, first_line + len(ends), dtype=np.int64)
    full = ends > starts
    starts, ends, lines = starts[full], ends[full], lines[full]
    num = len(starts)
    if num == 0:
        return (np.zeros(0, 'S1'), np.zeros(0, np.int64),
                np.zeros((0, TASK1_FIELDS - 1)), lines, newlines)
    fields = TASK1_FIELDS - 1
    # fields split by single spaces: with 9 spaces a line in all, the k-th
    # group of 9 lies strictly inside line k, none first or last on it and
    # none next to another, only if every line has 10 non-empty fields
    spaces = np.flatnonzero(body == 32)
    if len(spaces) != fields * num:
        return None
    spaces = spaces.reshape(num, fields)
    if np.any(spaces[:, 0] <= starts) or np.any(spaces[:, -1] >= ends - 1) \
            or np.any(np.diff(spaces, axis=1) < 2):
        return None
    name_length = spaces[:, 0] - starts
    if name_length.max() > _MAX_NAME_BYTES:
        return None
    try:
        # numpy's C reader, the fastest strict float parser at hand
        values = np.loadtxt(io.BytesIO(data), np.float64, comments=None,
                            delimiter=' ', usecols=range(1, TASK1_FIELDS),
                            ndmin=2, encoding='ascii')
    except ValueError:
        return None
    if values.shape != (num, fields) or not np.all(np.isfinite(values)):
        return None
    names, run_index = _name_runs(buf, starts, name_length)
    return names, run_index, values, lines, newlines


def _name_runs(buf: np.ndarray, first: np.ndarray,
               length: np.ndarray) -> tuple:
    """Image names of the lines, as runs of equal consecutive names:
    ``(names of the runs (R,) bytes, run of each line (K,))``."""
    width = int(length.max())
    rows = np.lib.stride_tricks.sliding_window_view(buf, width)[first]
    rows = np.where(np.arange(width) < length[:, None], rows, np.uint8(0))
    new = np.ones(len(rows), bool)
    new[1:] = np.any(rows[1:] != rows[:-1], 1)
    run_index = np.cumsum(new) - 1
    names = np.ascontiguousarray(rows[new]).view(f'S{width}').reshape(-1)
    return names, run_index

"""Tiny DOTA-layout folders with every kind of bad input, and with
valid-but-unusual inputs, for the tests of the split, check, evaluation and
drawing tools."""
from pathlib import Path

import cv2
import numpy as np

SQUARE = '2 2 12 2 12 12 2 12'
# (line, kind, reason) of each bad line of ``lines.txt``, lines 2..7
BAD_LINES = [
    ('1 2 3 4 5 6 7 plane 0', 'bad line',
     'expected 8 coordinates "x1 y1 ... x4 y4" before the class, got 7: '
     "'1 2 3 4 5 6 7 plane 0'"),
    (f'{SQUARE} tank 0', 'unknown class', "unknown class 'tank'; known: "
     'plane, ship'),
    ('2 2 12 nan 12 12 2 12 plane 0', 'bad line',
     "non-finite coordinate in '2 2 12 nan 12 12 2 12 plane 0'"),
    ('2 2 4O 2 12 12 2 12 plane 0', 'bad line',
     "non-numeric coordinate '4O' in '2 2 4O 2 12 12 2 12 plane 0'"),
    (f'{SQUARE} plane 2', 'bad line',
     "difficult flag must be 0 or 1, got '2'"),
    ('7 7 7 7 7 7 7 7 ship 0', 'degenerate polygon',
     "degenerate polygon (area <= 0): '7 7 7 7 7 7 7 7 ship 0'"),
]
CLASSES = ('plane', 'ship')


def write_image(path: Path, height: int = 40, width: int = 40,
                seed: int = 0) -> np.ndarray:
    image = np.random.default_rng(seed).integers(
        0, 255, (height, width, 3), dtype=np.uint8)
    cv2.imwrite(str(path), image)
    return image


def truncated_png(path: Path) -> None:
    ok, buf = cv2.imencode('.png', np.random.default_rng(1).integers(
        0, 255, (40, 40, 3), dtype=np.uint8))
    assert ok
    path.write_bytes(buf.tobytes()[:len(buf) // 2])


def make_hostile_dataset(root: Path) -> dict:
    """``root/images`` and ``root/labelTxt`` holding one case of each problem
    :func:`check_dota_dataset` finds. Returns the folders and the expected
    problems ``(file name, line or None, kind, reason)`` in report order."""
    images, labels = root / 'images', root / 'labelTxt'
    images.mkdir(parents=True)
    labels.mkdir()
    write_image(images / 'good.png')
    (labels / 'good.txt').write_text(
        f'{SQUARE} plane 0\n'
        '30 30 41 30 41 39 30 39 ship 0\n'      # 1 px outside: fine
        '30 30 60 30 60 39 30 39 ship 0\n')     # 20 px of 40: far outside
    write_image(images / 'lines.png')
    (labels / 'lines.txt').write_text(
        f'{SQUARE} plane 0\n' + ''.join(line + '\n'
                                        for line, _, _ in BAD_LINES))
    truncated_png(images / 'trunc.png')
    (labels / 'trunc.txt').write_text(f'{SQUARE} plane 0\n')
    (images / 'zero.png').write_bytes(b'')
    (labels / 'zero.txt').write_text(f'{SQUARE} plane 0\n')
    (labels / 'noimage.txt').write_text(f'{SQUARE} plane 0\n')
    write_image(images / 'nolabel.png')
    expected = [('good.txt', 3, 'outside image',
                 'vertex (60, 30) lies far outside the 40x40 image')]
    expected += [('lines.txt', 2 + k, kind, reason)
                 for k, (_, kind, reason) in enumerate(BAD_LINES)]
    expected += [
        ('noimage.txt', None, 'label file without image',
         f'no image noimage.* in {images}'),
        ('nolabel.png', None, 'image without label file',
         f'no label file nolabel.txt in {labels}'),
        ('trunc.png', None, 'unreadable image',
         'unreadable or truncated image'),
        ('zero.png', None, 'unreadable image', 'empty image file (0 bytes)'),
    ]
    return dict(images=images, labels=labels, expected=expected)


def expected_lines(data: dict) -> list:
    """The problem lines the check tool prints for
    :func:`make_hostile_dataset`."""
    out = []
    for name, line, _, reason in data['expected']:
        folder = data['labels'] if name.endswith('.txt') else data['images']
        where = f'{folder / name}' + (f':{line}' if line else '')
        out.append(f'{where}: {reason}')
    return out

"""Task1 submission files: the vectorised reader agrees with the line parser
(and with Python's ``float``) on every file, falls back on what it does not
take, and errors name ``file:line``."""
import numpy as np
import pytest

from rotated_tod.core.fileio import (
    InputError,
    format_detection_lines,
    parse_task1,
    read_task1_file,
)
from rotated_tod.core.fileio import dota as dota_format


def random_task1(seed: int, num_images: int = 7, per_image: int = 30) -> tuple:
    """(text, expected names per line, expected (K, 9) values): images in
    runs and interleaved, negative and integer coordinates."""
    rng = np.random.default_rng(seed)
    names = [f'P{i:04d}__1024__{i * 7}___0' for i in range(num_images)]
    lines, images, values = [], [], []
    for k in range(num_images * per_image):
        image = names[k // per_image] if k % 5 else names[rng.integers(
            num_images)]
        row = [rng.uniform(0, 1)] + rng.uniform(-50, 4000, 8).tolist()
        coords = [f'{v:.2f}' if j % 3 else f'{round(v)}'
                  for j, v in enumerate(row[1:])]
        line = f'{image} {row[0]:.6f} ' + ' '.join(coords)
        lines.append(line)
        images.append(image)
        values.append([float(t) for t in line.split()[1:]])
    return '\n'.join(lines) + '\n', images, np.array(values)


def assert_same_records(a, b):
    assert a.names == b.names
    for field in ('image_index', 'scores', 'polygons', 'lines'):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def no_line_parser(monkeypatch):
    def fail(data, name):
        raise AssertionError('the fast reader fell back to the line parser')

    monkeypatch.setattr(dota_format, '_parse_task1_lines', fail)


@pytest.mark.parametrize('chunk', [64, 1 << 21])
def test_fast_reader_equals_float_and_line_parser(monkeypatch, chunk):
    text, images, values = random_task1(0)
    # blank lines count in the line numbers
    text = text.replace('\n', '\n\n', 3)
    expected = dota_format._parse_task1_lines(text.encode(), 'f.txt')
    monkeypatch.setattr(dota_format, 'TASK1_CHUNK_BYTES', chunk)
    no_line_parser(monkeypatch)
    records = parse_task1(text.encode(), 'f.txt')
    assert_same_records(records, expected)
    assert records.images == images
    np.testing.assert_array_equal(records.scores, values[:, 0])
    np.testing.assert_array_equal(records.polygons, values[:, 1:])
    assert records.lines[:4].tolist() == [1, 3, 5, 7]


def test_bom_crlf_and_missing_final_newline(monkeypatch):
    text, _, _ = random_task1(1, num_images=2, per_image=3)
    plain = parse_task1(text, 'f.txt')
    no_line_parser(monkeypatch)
    variant = b'\xef\xbb\xbf' + text.rstrip('\n').replace('\n',
                                                          '\r\n').encode()
    assert_same_records(parse_task1(variant, 'f.txt'), plain)


@pytest.mark.parametrize('length', [1, 63, 64, 65, 200, 256])
def test_fast_reader_takes_names_up_to_its_limit(monkeypatch, length):
    long_name = 'P' * length
    text = f'{long_name} 0.5 1 2 3 4 5 6 7 8\nQ 0.25 1 2 3 4 5 6 7 8\n' * 2
    no_line_parser(monkeypatch)
    records = parse_task1(text, 'f.txt')
    assert records.images == [long_name, 'Q'] * 2
    assert records.scores.tolist() == [0.5, 0.25] * 2


def test_longer_names_go_through_the_line_parser():
    name = 'P' * (dota_format._MAX_NAME_BYTES + 1)
    data = f'{name} 0.5 1 2 3 4 5 6 7 8\n'.encode()
    assert dota_format._parse_task1_fast(data) is None
    assert parse_task1(data, 'f.txt').names == [name]


@pytest.mark.parametrize('data', [
    ' P1 0.5 1 2 3 4 5 6 7 8\nP1 0.5 1 2 3 4 5 6 7 8\n',   # leading space
    'P1 0.5 1 2 3 4 5 6 7 8\n P1 0.5 1 2 3 4 5 6 7 8\n',   # after a newline
    'P1 0.5 1 2 3 4 5 6 7 8\nP1 0.5 1 2 3 4 5 6 7 8 ',     # space at the end
    'P1 0.5 1 2 3 4 5 6 7 8\x1f\nP1 0.5 1 2 3 4 5 6 7 8\n',  # control byte
])
def test_spaces_at_line_ends_go_through_the_line_parser(monkeypatch, data):
    assert dota_format._parse_task1_fast(data.encode()) is None
    records = parse_task1(data, 'f.txt')
    assert records.scores.tolist() == [0.5, 0.5]
    assert records.lines.tolist() == [1, 2]


@pytest.mark.parametrize('line, value', [
    ('P1\t0.5 1 2 3 4 5 6 7 8', 0.5),        # tab
    ('P1  0.5 1 2 3 4 5 6 7 8', 0.5),        # repeated space
    ('P1 5e-1 1 2 3 4 5 6 7 8 ', 0.5),       # exponent, trailing space
    ('P\u00e9 0.5 1 2 3 4 5 6 7 8', 0.5),    # non-ASCII name
    ('P1 +.5 1 2 3 4 5 6 7 8', 0.5),
])
def test_other_layouts_go_through_the_line_parser(line, value):
    records = parse_task1(f'{line}\n{line}\n', 'f.txt')
    assert records.scores.tolist() == [value, value]
    assert records.polygons.tolist() == [list(range(1, 9))] * 2
    assert records.names == [line.split()[0]]


@pytest.mark.parametrize('bad, message', [
    ('P1 0.5 1 2 3 4 5 6 7', r'f.txt:3: expected .*10 fields.*got 9'),
    ('P1 0.5 1 2 3 4 5 6 7 8 9', r'f.txt:3: expected .*got 11'),
    ('P1 0.5 1 2 3 x 5 6 7 8', r'f.txt:3: non-numeric'),
    ('P1 nan 1 2 3 4 5 6 7 8', r'f.txt:3: non-finite'),
    ('P1 0.5 1 2 3 4 5 6 7 inf', r'f.txt:3: non-finite'),
])
def test_errors_name_the_first_bad_line(bad, message):
    good = 'P1 0.5 1 2 3 4 5 6 7 8'
    data = '\n'.join([good, '', bad, good, bad]) + '\n'
    with pytest.raises(InputError, match=message):
        parse_task1(b'\xef\xbb\xbf' + data.encode(), 'f.txt')


def test_long_and_short_lines_that_balance_are_caught():
    # 10 + 8 spaces: as many as two good lines hold
    data = b'P1 0.5 1 2 3 4 5 6 7 8 9\nP1 0.5 1 2 3 4 5 6 7\n'
    assert dota_format._parse_task1_fast(data) is None
    with pytest.raises(InputError, match=r'f.txt:1: expected .*got 11'):
        parse_task1(data, 'f.txt')


def test_not_utf8_names_its_line():
    with pytest.raises(InputError, match=r'f.txt:2: not UTF-8'):
        parse_task1(b'P1 0.5 1 2 3 4 5 6 7 8\nP\xff 0.5 1 2 3 4 5 6 7 8\n',
                    'f.txt')


def test_empty_and_blank_files():
    for data in (b'', b'\xef\xbb\xbf', b'\n\n', b'  \n'):
        records = parse_task1(data, 'f.txt')
        assert len(records) == 0 and records.names == []
        assert records.polygons.shape == (0, 8)


def test_formatted_lines_read_back(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    scores, polys = rng.uniform(0, 1, 5), rng.uniform(0, 1000, (5, 8))
    path = tmp_path / 'Task1_plane.txt'
    path.write_text(''.join(format_detection_lines('P7', scores, polys)))
    no_line_parser(monkeypatch)
    records = read_task1_file(str(path))
    assert records.images == ['P7'] * 5
    np.testing.assert_allclose(records.scores, scores, atol=5e-7)
    np.testing.assert_allclose(records.polygons, polys, atol=5e-3)
    with pytest.raises(FileNotFoundError, match='Task1_ship.txt'):
        read_task1_file(str(tmp_path / 'Task1_ship.txt'))

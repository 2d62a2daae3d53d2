import logging
import os

import numpy as np
import pytest

from rotated_tod.core.fileio import (
    DOTA_CLASSES,
    DOTALabelError,
    MissingInputError,
    format_dota_labels,
    list_label_files,
    parse_dota_labels,
    polygon_area,
    resolve_classes,
    scan_dota_labels,
    write_dota_labels,
)
from rotated_tod.core.fileio.dota import _scan_plain

SAMPLES = os.path.join(os.path.dirname(__file__), '..', '..', 'data',
                       'dota_samples', 'labelTxt')


def test_real_sample_parses_with_header_and_difficult():
    ann = parse_dota_labels(os.path.join(SAMPLES, 'P1234.txt'),
                            DOTA_CLASSES['v1.0'])
    with open(os.path.join(SAMPLES, 'P1234.txt')) as f:
        object_lines = [line for line in f if len(line.split()) == 10]
    assert len(ann) == len(object_lines) == 144
    assert ann.meta == {'imagesource': 'GF', 'gsd': '1'}
    assert ann.difficult.sum() == sum(line.split()[9] == '1'
                                      for line in object_lines)
    first = object_lines[0].split()
    assert np.allclose(ann.polygons[0], [float(v) for v in first[:8]])
    assert DOTA_CLASSES['v1.0'][ann.labels[0]] == first[8]


@pytest.mark.parametrize('line, reason', [
    ('1 2 3 4 5 6 plane 0', '8 coordinates "x1 y1 ... x4 y4" before the '
     'class, got 6'),
    ('1 2 3 4 5 6 7 plane 0', 'before the class, got 7'),
    ('1 2 3 4 5 6 7 8 9 plane 0', 'before the class, got 9'),
    ('1 2 3 4 5 6 7 8', '(9 or 10 fields), got 8'),
    ('1 2 3 4 5 6 7 x plane 0', "non-numeric coordinate 'x'"),
    ('0 0 10 0 4O 10 0 10 plane 0', "non-numeric coordinate '4O'"),
    ('0 0 10 0 10 10 0 10 tank 0', "unknown class 'tank'"),
    ('0 0 10 0 10 10 0 10 plane 3', "got '3'"),
    ('0 0 10 0 10 10 0 10 plane 2', "difficult flag must be 0 or 1, got '2'"),
    ('0 0 10 0 20 0 30 0 plane 0', 'degenerate'),
    ('5 5 5 5 5 5 5 5 plane 0', 'degenerate polygon (area <= 0)'),
    ('0 0 10 0 10 nan 0 10 plane 0', 'non-finite'),
])
def test_malformed_line_names_file_and_line(tmp_path, line, reason):
    path = tmp_path / 'P9.txt'
    path.write_text('imagesource:x\ngsd:1\n0 0 10 0 10 10 0 10 plane 0\n' +
                    line + '\n')
    with pytest.raises(DOTALabelError) as err:
        parse_dota_labels(str(path), DOTA_CLASSES['v1.0'])
    assert f'{path}:4:' in str(err.value)
    assert reason in str(err.value)


def test_plain_files_take_the_vectorised_reader_and_agree(tmp_path):
    rng = np.random.default_rng(0)
    classes = DOTA_CLASSES['v1.0']
    corners = np.array([0, 0, 1, 0, 1, 1, 0, 1])
    rows = []
    for _ in range(60):
        coords = rng.uniform(-100, 4000, 2).repeat(4) + corners * rng.uniform(
            1, 300) + rng.uniform(-0.5, 0.5, 8)
        rows.append([f'{v:.{rng.integers(0, 5)}f}' for v in coords])
    names = rng.choice(classes, len(rows))
    flags = rng.integers(0, 2, len(rows))
    objects = [f"{' '.join(r)} {n} {f}" for r, n, f in zip(rows, names, flags)]
    expected = np.array([[float(t) for t in r] for r in rows])
    header = ['imagesource:GoogleEarth', 'gsd:0.146']
    index = {c: i for i, c in enumerate(classes)}
    assert _scan_plain(header + objects, index, 0.0) is not None

    def check(path, lines, at, fast):
        scan = scan_dota_labels(str(path), classes)
        assert not scan.problems and scan.lines.tolist() == at
        assert np.array_equal(scan.ann.polygons, expected)
        assert scan.ann.labels.tolist() == [classes.index(n) for n in names]
        assert scan.ann.difficult.tolist() == (flags == 1).tolist()
        assert scan.ann.meta == {'imagesource': 'GoogleEarth', 'gsd': '0.146'}
        assert (_scan_plain(lines, index, 0.0) is not None) == fast

    plain_at = list(range(3, 63))
    path = tmp_path / 'plain.txt'
    path.write_text('\n'.join(header + objects) + '\n')
    check(path, header + objects, plain_at, True)
    path.write_bytes(b'\xef\xbb\xbf' + '\r\n'.join(header + objects).encode())
    check(path, header + objects, plain_at, True)
    # a blank line or a coordinate in another float syntax: the line parser
    lines = header + objects[:30] + [''] + objects[30:]
    path.write_text('\n'.join(lines))
    check(path, lines, plain_at[:30] + [t + 1 for t in plain_at[30:]], False)
    lines = header + objects[:-1] + ['+' + objects[-1]]
    path.write_text('\n'.join(lines))
    check(path, lines, plain_at, False)


def test_missing_difficult_means_zero_and_empty_file(tmp_path):
    path = tmp_path / 'a.txt'
    path.write_text('0 0 10 0 10 10 0 10 ship\n')
    ann = parse_dota_labels(str(path), DOTA_CLASSES['v1.0'])
    assert not ann.difficult[0]
    (tmp_path / 'b.txt').write_text('')
    assert len(parse_dota_labels(str(tmp_path / 'b.txt'), ('ship', ))) == 0


def test_write_parse_round_trip(tmp_path):
    polys = np.array([[0, 0, 10.5, 0, 10.5, 10, 0, 10],
                      [5, 5, 9, 5, 9, 7, 5, 7.25]])
    path = str(tmp_path / 'sub' / 'x.txt')
    write_dota_labels(path, polys, ['ship', 'helipad'], [False, True],
                      meta={'gsd': '0.5'})
    ann = parse_dota_labels(path, DOTA_CLASSES['v2.0'])
    assert np.allclose(ann.polygons, np.round(polys, 1))
    assert ann.labels.tolist() == [6, 17] and ann.difficult.tolist() == [
        False, True
    ]
    assert ann.meta == {'gsd': '0.5'}
    assert os.listdir(tmp_path / 'sub') == ['x.txt']
    with pytest.raises(ValueError):
        format_dota_labels(polys, ['ship'])


def test_class_sets_and_area():
    assert len(resolve_classes(None, 'v1.0')) == 15
    assert len(resolve_classes(None, 'v1.5')) == 16
    assert resolve_classes(None, 'v2.0')[-2:] == ('airport', 'helipad')
    assert resolve_classes(['a'], 'v1.0') == ('a', )
    with pytest.raises(KeyError):
        resolve_classes(None, 'v3')
    assert polygon_area(np.array([0, 0, 4, 0, 4, 3, 0, 3])) == 12


def test_bom_crlf_null_gsd_and_missing_flag_keep_every_object(tmp_path):
    path = tmp_path / 'w.txt'
    path.write_bytes(b'\xef\xbb\xbfimagesource:GoogleEarth\r\ngsd:null\r\n'
                     b'0 0 10 0 10 10 0 10 plane\r\n'
                     b'20 20 30 20 30 30 20 30 ship 1\r\n')
    ann = parse_dota_labels(str(path), DOTA_CLASSES['v1.0'])
    assert ann.meta == {'imagesource': 'GoogleEarth', 'gsd': 'null'}
    assert ann.labels.tolist() == [0, 6]
    assert ann.difficult.tolist() == [False, True]
    assert ann.polygons[1].tolist() == [20, 20, 30, 20, 30, 30, 20, 30]
    # a BOM before an object line (no header) too
    path.write_bytes(b'\xef\xbb\xbf10 0 20 0 20 10 10 10 plane 0\n')
    assert parse_dota_labels(str(path), ('plane', )).polygons[0, 0] == 10


def test_scan_lists_every_problem_and_skip_keeps_the_rest(tmp_path, caplog):
    path = tmp_path / 's.txt'
    path.write_text('gsd:1\n'
                    '0 0 10 0 10 10 0 10 plane 0\n'          # 2: valid
                    '1 2 3 4 5 6 7 plane 0\n'                # 3
                    '0 0 10 0 10 10 0 10 tank 0\n'           # 4
                    '\n'
                    '3 3 3 3 3 3 3 3 ship 0\n'               # 6
                    '0 0 4 0 4 4 0 4 ship 1\n')              # 7: valid
    scan = scan_dota_labels(str(path), ('plane', 'ship'))
    assert [(p.line, p.kind) for p in scan.problems] == [
        (3, 'bad line'), (4, 'unknown class'), (6, 'degenerate polygon')]
    assert all(p.path == str(path) for p in scan.problems)
    assert scan.lines.tolist() == [2, 7]
    assert scan.ann.labels.tolist() == [0, 1] and scan.ann.meta == {'gsd': '1'}
    with caplog.at_level(logging.WARNING, logger='rotated_tod'):
        ann = parse_dota_labels(str(path), ('plane', 'ship'),
                                on_invalid='skip')
    assert ann.labels.tolist() == [0, 1]
    assert [m.split(': ')[1] for m in caplog.messages] == [
        f'{path}:3', f'{path}:4', f'{path}:6']
    with pytest.raises(DOTALabelError, match=r's\.txt:3: expected 8'):
        parse_dota_labels(str(path), ('plane', 'ship'))


def test_unreadable_or_missing_label_file(tmp_path):
    path = tmp_path / 'latin.txt'
    path.write_bytes('0 0 10 0 10 10 0 10 caf\xe9 0\n'.encode('latin-1'))
    with pytest.raises(DOTALabelError, match=r'latin\.txt: not UTF-8 text'):
        parse_dota_labels(str(path), ('plane', ))
    scan = scan_dota_labels(str(path), ('plane', ))
    assert [p.kind for p in scan.problems] == ['unreadable label file']
    with pytest.raises(MissingInputError, match='label file not found'):
        parse_dota_labels(str(tmp_path / 'none.txt'), ('plane', ))
    with pytest.raises(FileNotFoundError, match='annotation folder'):
        list_label_files(str(tmp_path / 'no_dir'))

import os

import numpy as np
import pytest

from rotated_tod.core.fileio import (
    DOTA_CLASSES,
    DOTALabelError,
    format_dota_labels,
    parse_dota_labels,
    polygon_area,
    resolve_classes,
    write_dota_labels,
)

SAMPLES = os.path.join(os.path.dirname(__file__), '..', 'data',
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
    ('1 2 3 4 5 6 plane 0', 'fields'),
    ('1 2 3 4 5 6 7 x plane 0', 'non-numeric'),
    ('0 0 10 0 10 10 0 10 tank 0', 'unknown class'),
    ('0 0 10 0 10 10 0 10 plane 3', 'difficult'),
    ('0 0 10 0 20 0 30 0 plane 0', 'degenerate'),
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

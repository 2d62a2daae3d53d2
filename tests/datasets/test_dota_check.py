import pytest

from rotated_tod.core.fileio import MissingInputError
from rotated_tod.datasets.dota_check import check_dota_dataset
from tests.datasets.hostile_dota import (
    CLASSES,
    SQUARE,
    make_hostile_dataset,
    write_image,
)


def test_every_problem_is_listed_once_in_order(tmp_path):
    data = make_hostile_dataset(tmp_path)
    result = check_dota_dataset(str(data['images']), str(data['labels']),
                                CLASSES)
    found = [(p.path.rsplit('/', 1)[1], p.line, p.kind, p.reason)
             for p in result.problems]
    assert found == data['expected']
    assert (result.images, result.label_files, result.objects) == (5, 5, 7)
    assert result.summary() == (
        '11 problem(s) in 6 file(s): bad line: 4, degenerate polygon: 1, '
        'image without label file: 1, label file without image: 1, '
        'outside image: 1, unknown class: 1, unreadable image: 2 '
        '(5 images, 5 label files, 7 valid objects)')


def test_clean_dataset_and_outside_margin(tmp_path):
    (tmp_path / 'img').mkdir()
    (tmp_path / 'ann').mkdir()
    write_image(tmp_path / 'img' / 'a.png', 40, 50)
    # x = 55 is 5 px (10% of the 50 px width) outside: at the margin, kept
    (tmp_path / 'ann' / 'a.txt').write_text(
        f'{SQUARE} plane 0\n40 2 55 2 55 12 40 12 ship 0\n')
    result = check_dota_dataset(str(tmp_path / 'img'), str(tmp_path / 'ann'),
                                CLASSES)
    assert result.problems == []
    assert result.summary() == \
        'no problem found (1 images, 1 label files, 2 valid objects)'
    tight = check_dota_dataset(str(tmp_path / 'img'), str(tmp_path / 'ann'),
                               CLASSES, outside_margin=0.09)
    assert [(p.line, p.kind) for p in tight.problems] == [(2, 'outside image')]
    with pytest.raises(MissingInputError, match='image folder not found'):
        check_dota_dataset(str(tmp_path / 'none'), str(tmp_path / 'ann'))

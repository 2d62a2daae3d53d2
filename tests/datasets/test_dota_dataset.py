"""``DOTAPolyDataset(on_invalid=...)`` built from a config, as training
builds it (through mmcv's registry)."""
import logging

import numpy as np
import pytest
from mmrotate.datasets import build_dataset

import rotated_tod  # noqa: F401  (registers DOTAPolyDataset)
from rotated_tod.core.fileio import DOTALabelError

LABELS = {
    'a': ('2 2 12 2 12 12 2 12 ship 0\n'
          '7 7 7 7 7 7 7 7 ship 0\n'                 # 2: four equal points
          '20 20 30 20 30 30 20 30 tank 0\n'         # 3: unknown class
          '20 2 30 2 30 8 20 8 storage-tank 1\n'),
    'b': '1 2 3 4 5 6 7 ship 0\n',                   # the only object: bad
}


def _config(tmp_path, **kwargs):
    (tmp_path / 'labelTxt').mkdir(exist_ok=True)
    for name, text in LABELS.items():
        (tmp_path / 'labelTxt' / f'{name}.txt').write_text(text)
        (tmp_path / f'{name}.png').write_bytes(b'')
    return dict(type='DOTAPolyDataset', ann_file=str(tmp_path / 'labelTxt'),
                img_prefix=str(tmp_path), pipeline=[],
                classes=('ship', 'storage-tank'), filter_empty_gt=False,
                **kwargs)


def test_error_is_the_default(tmp_path):
    with pytest.raises(DOTALabelError) as err:
        build_dataset(_config(tmp_path))
    # the registry re-raises with the class name; the file and line stay
    assert f"{tmp_path / 'labelTxt' / 'a.txt'}:2: degenerate polygon" in \
        str(err.value)
    with pytest.raises(ValueError, match='on_invalid'):
        build_dataset(_config(tmp_path, on_invalid='drop'))


def test_skip_keeps_every_image_and_the_valid_objects(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger='rotated_tod'):
        dataset = build_dataset(_config(tmp_path, on_invalid='skip'))
    assert [info['filename'] for info in dataset.data_infos] == \
        ['a.png', 'b.png']
    a, b = (info['ann'] for info in dataset.data_infos)
    assert a['labels'].tolist() == [0, 1]
    np.testing.assert_array_equal(a['polygons'], [
        [2, 2, 12, 2, 12, 12, 2, 12], [20, 2, 30, 2, 30, 8, 20, 8]])
    assert a['difficult'].tolist() == [False, True]
    assert len(b['labels']) == 0 and b['bboxes'].shape == (0, 5)
    labels = tmp_path / 'labelTxt'
    assert [m.split(': ')[1] for m in caplog.messages[:3]] == [
        f'{labels / "a.txt"}:2', f'{labels / "a.txt"}:3',
        f'{labels / "b.txt"}:1']
    assert caplog.messages[3] == (
        f'warning: 3 invalid object(s) skipped in the label files of '
        f'{labels} (on_invalid=skip)')

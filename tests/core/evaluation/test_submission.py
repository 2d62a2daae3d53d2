import os
import zipfile

import numpy as np
import pytest

from rotated_tod.core.bbox.transforms import rbox_to_hbox, rbox_to_polygon
from rotated_tod.core.evaluation import read_dota_submission, write_dota_submission
from rotated_tod.core.fileio import read_task1_file

CLASSES = ('plane', 'ship', 'harbor')


def make_results(seed=0, images=('P0001', 'P0002', 'P0003')):
    """Per image: planes and ships, never a harbor (an empty class)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in images:
        per_class = []
        for c in range(len(CLASSES)):
            k = 0 if c == 2 else int(rng.integers(1, 6))
            boxes = np.column_stack([
                rng.uniform(0, 4000, (k, 2)), rng.uniform(2, 300, (k, 2)),
                rng.uniform(-np.pi / 2, np.pi / 2, k), rng.uniform(0, 1, k)])
            per_class.append(boxes.astype(np.float32))
        out[name] = per_class
    return out


def files_under(folder):
    return sorted(
        os.path.relpath(os.path.join(root, f), folder)
        for root, _, names in os.walk(folder) for f in names)


def test_layout_and_round_trip(tmp_path):
    results = make_results()
    written = write_dota_submission(results, CLASSES, str(tmp_path),
                                    image_ids=list(results))
    expected = sorted([f'Task1/Task1_{c}.txt' for c in CLASSES] +
                      [f'Task2/Task2_{c}.txt' for c in CLASSES] +
                      ['Task1.zip', 'Task2.zip'])
    assert sorted(written) == expected == files_under(tmp_path)
    assert (tmp_path / 'Task1' / 'Task1_harbor.txt').read_text() == ''
    with zipfile.ZipFile(tmp_path / 'Task1.zip') as zf:
        assert sorted(zf.namelist()) == sorted(f'Task1_{c}.txt' for c in CLASSES)
        assert zf.read('Task1_ship.txt').decode() == \
            (tmp_path / 'Task1' / 'Task1_ship.txt').read_text()
    for source in (tmp_path, tmp_path / 'Task1', tmp_path / 'Task1.zip'):
        back = read_dota_submission(str(source), CLASSES)
        assert sorted(back) == sorted(results)
        for name, per_class in results.items():
            for c, dets in enumerate(per_class):
                got = back[name][c]
                assert got.shape == (len(dets), 9)
                polys = rbox_to_polygon(dets[:, :5].astype(np.float64))
                np.testing.assert_allclose(got[:, :8], polys, atol=0.005 + 1e-9)
                np.testing.assert_allclose(got[:, 8], dets[:, 5], atol=5e-7 + 1e-9)
    # Task2: horizontal boxes of the same detections
    line = (tmp_path / 'Task2' / 'Task2_plane.txt').read_text().splitlines()[0]
    image, score, *box = line.split(' ')
    first = results[image][0][0].astype(np.float64)
    np.testing.assert_allclose(np.array(box, float), rbox_to_hbox(first[:5]),
                               atol=0.005 + 1e-9)
    assert float(score) == pytest.approx(first[5], abs=5e-7)


def test_same_detections_give_identical_zips(tmp_path):
    results = make_results()
    write_dota_submission(results, CLASSES, str(tmp_path / 'a'))
    write_dota_submission(results, CLASSES, str(tmp_path / 'b'))
    assert (tmp_path / 'a' / 'Task1.zip').read_bytes() == \
        (tmp_path / 'b' / 'Task1.zip').read_bytes()


def test_missing_images_are_refused(tmp_path):
    results = make_results()
    wanted = list(results) + ['P0009', 'P0010']
    out = tmp_path / 'sub'
    with pytest.raises(ValueError,
                       match='2 of 5 images have no results: P0009, P0010'):
        write_dota_submission(results, CLASSES, str(out), image_ids=wanted)
    assert not out.exists()
    written = write_dota_submission(results, CLASSES, str(out), image_ids=wanted,
                                    allow_missing=True)
    assert 'Task1.zip' in written
    with pytest.raises(ValueError, match='not in image_ids: P0003'):
        write_dota_submission(results, CLASSES, str(tmp_path / 'x'),
                              image_ids=['P0001', 'P0002'])


def test_bad_input_writes_nothing(tmp_path):
    results = make_results()
    # the problem is in the last image and class written
    results['P0003'][1][-1, 2] = np.nan
    with pytest.raises(ValueError, match='image P0003, class ship: non-finite'):
        write_dota_submission(results, CLASSES, str(tmp_path))
    assert files_under(tmp_path) == []
    with pytest.raises(ValueError, match='2 detection arrays for 3 classes'):
        write_dota_submission({'P1': make_results()['P0001'][:2]}, CLASSES,
                              str(tmp_path))
    with pytest.raises(ValueError, match='image name'):
        write_dota_submission({'P 1': make_results()['P0001']}, CLASSES,
                              str(tmp_path))
    assert files_under(tmp_path) == []


def test_failed_write_keeps_the_previous_file_whole(tmp_path, monkeypatch):
    old = make_results(seed=1)
    write_dota_submission(old, CLASSES, str(tmp_path))
    before = {f: (tmp_path / f).read_bytes() for f in files_under(tmp_path)}

    def broken_replace(src, dst):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', broken_replace)
    with pytest.raises(OSError, match='disk full'):
        write_dota_submission(make_results(seed=2), CLASSES, str(tmp_path))
    monkeypatch.undo()
    after = {f: (tmp_path / f).read_bytes() for f in files_under(tmp_path)}
    assert after == before  # no temporary file left, nothing half-written


def test_read_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / 'Task1_plane.txt'
    path.write_text('P1 0.5 0 0 1 0 1 1 0 1\nP1 0.5 0 0 1 0 1 x 0 1\n')
    with pytest.raises(ValueError, match=r'Task1_plane.txt:2: non-numeric'):
        read_task1_file(str(path))
    path.write_text('P1 0.5 0 0 1 0 1 1 0 inf\n')
    with pytest.raises(ValueError, match=r'Task1_plane.txt:1: non-finite'):
        read_task1_file(str(path))
    with pytest.raises(FileNotFoundError, match='Task1_ship.txt'):
        read_dota_submission(str(tmp_path), ('plane', 'ship'))

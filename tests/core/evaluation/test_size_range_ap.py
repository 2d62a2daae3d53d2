"""AP by AI-TOD size range (very tiny 2-8, tiny 8-16, small 16-32, medium
32-64 px on sqrt(polygon area)) with COCO's ignore rules, on hand-built cases
whose AP is worked out in the comments (VOC07 11-point AP)."""
import json
import math

import numpy as np
import pytest

from rotated_tod.core.evaluation import eval_polygon_map, write_dota_submission
from rotated_tod.core.fileio import DOTAAnnotation
from tests.tools.cli import run_tool


def square(x, y, side):
    return [x, y, x + side, y, x + side, y + side, x, y + side]


def ann(polys, labels, difficult=None):
    polys = np.asarray(polys, np.float64).reshape(-1, 8)
    if difficult is None:
        difficult = np.zeros(len(polys), bool)
    return DOTAAnnotation(polys, np.asarray(labels, np.int64),
                          np.asarray(difficult, bool))


def dets(*rows):
    return np.array([list(p) + [s] for p, s in rows],
                    np.float64).reshape(-1, 9)


# One object per range: sides 4 (very tiny), 12 (tiny), 20 (small), 40 (medium).
GTS = [square(0, 0, 4), square(100, 0, 12), square(200, 0, 20),
       square(300, 0, 40)]


def four_sizes_report(**kwargs):
    """Exact hits on the 4 and 12 px objects, a 20 px false alarm with the
    top score, nothing on the 20 and 40 px objects."""
    results = [[dets((square(500, 500, 20), 0.95), (GTS[0], 0.9),
                     (GTS[1], 0.8))]]
    return eval_polygon_map(results, [ann(GTS, [0] * 4)], 1,
                            size_ranges=True, **kwargs)


def test_each_range_sees_only_its_objects_and_detections():
    report = four_sizes_report()
    # very tiny: the 20 px false alarm is outside [2, 8) and unmatched:
    # ignored; the 12 px hit's object is outside: ignored; one TP -> AP 1.
    assert report['AP_vt'] == pytest.approx(1.0, abs=1e-12)
    assert report['AP_t'] == pytest.approx(1.0, abs=1e-12)
    # small: the 20 px false alarm counts, its object is missed -> AP 0.
    assert report['AP_s'] == 0.0
    assert report['AP_m'] == 0.0
    assert [report[f'num_gts_{k}'] for k in ('vt', 't', 's', 'm')] == [
        1, 1, 1, 1]
    # all sizes: FP, TP, TP: precision 2/3 up to recall 1/2 -> 6 of 11 points
    assert report['mAP'] == pytest.approx(6 * (2 / 3) / 11)


def test_without_size_ranges_no_size_keys():
    results = [[dets((GTS[0], 0.9))]]
    report = eval_polygon_map(results, [ann(GTS, [0] * 4)], 1)
    assert not any(k.startswith('AP_') for k in report)


def test_range_bounds_are_half_open_and_difficult_stays_ignored():
    # side 8 is tiny (not very tiny); side 1 is in no range; the difficult
    # 5 px object is ignored in very tiny: its hit is neither TP nor FP.
    gts = [square(0, 0, 8), square(50, 0, 1), square(100, 0, 5)]
    results = [[dets((gts[2], 0.9), (gts[0], 0.8))]]
    report = eval_polygon_map(results, [ann(gts, [0] * 3, [0, 0, 1])], 1,
                              size_ranges=True)
    assert report['num_gts_vt'] == 0 and math.isnan(report['AP_vt'])
    assert report['num_gts_t'] == 1
    assert report['AP_t'] == pytest.approx(1.0, abs=1e-12)


def test_duplicate_outside_the_range_is_ignored_inside_it_counts():
    gts = [square(0, 0, 15), square(100, 0, 15)]
    first, second = (gts[0], 0.9), (gts[1], 0.7)
    # a 17 px box centred on the first object: IoU 225/289 > 0.5, a duplicate.
    big_duplicate = (square(-1, -1, 17), 0.8)
    report = eval_polygon_map([[dets(first, big_duplicate, second)]],
                              [ann(gts, [0, 0])], 1, size_ranges=True)
    # outside [8, 16): the unmatched duplicate is ignored -> AP 1
    assert report['AP_t'] == pytest.approx(1.0, abs=1e-12)
    # a 15 px duplicate (IoU 196/225 with the object) inside the range is a
    # false positive: TP, FP, TP: precision 1 up to recall 1/2 (6 points),
    # then 2/3 (5 points).
    small_duplicate = (square(1, 1, 14), 0.8)
    report = eval_polygon_map([[dets(first, small_duplicate, second)]],
                              [ann(gts, [0, 0])], 1, size_ranges=True)
    assert report['AP_t'] == pytest.approx((6 + 5 * 2 / 3) / 11)


def test_classes_without_objects_in_the_range_leave_the_mean():
    gts = [square(0, 0, 4), square(100, 0, 40)]
    results = [[dets((gts[0], 0.9)), dets((gts[1], 0.9))]]
    report = eval_polygon_map(results, [ann(gts, [0, 1])], 2,
                              size_ranges=True)
    # class 1 has no very tiny object: AP_vt is class 0's AP, not (1 + 0) / 2
    assert report['AP_vt'] == pytest.approx(1.0, abs=1e-12)
    assert report['AP_m'] == pytest.approx(1.0, abs=1e-12)
    assert math.isnan(report['AP_t'])


def test_several_thresholds_add_the_mean_over_thresholds():
    # the 12 px detection shifted by 1 px: IoU 11*12/(2*144-132) = 0.846,
    # a TP up to the 0.80 threshold, missed at 0.85 ... 0.95 (3 of 10).
    results = [[dets((square(101, 0, 12), 0.9))]]
    thrs = [round(0.5 + 0.05 * i, 2) for i in range(10)]
    report = eval_polygon_map(results, [ann(GTS, [0] * 4)], 1, iou_thr=thrs,
                              size_ranges=True)
    assert report['AP_t'] == pytest.approx(1.0, abs=1e-12)
    assert report['AP_t_50_95'] == pytest.approx(0.7, abs=1e-12)
    assert report['mAP_50_95'] == pytest.approx(0.7 * 3 / 11, abs=1e-12)


def test_eval_dota_cli_size_ranges(tmp_path, capsys):
    labels = tmp_path / 'labelTxt'
    labels.mkdir()
    (labels / 'img.txt').write_text(''.join(
        ' '.join(str(v) for v in g) + ' ship 0\n' for g in GTS))
    results = {'img': [np.zeros((0, 9)),
                       dets((GTS[0], 0.9), (GTS[1], 0.8))]}
    write_dota_submission(results, ['plane', 'ship'], str(tmp_path / 'sub'))
    out = tmp_path / 'report.json'
    assert run_tool('eval_dota.py', [
        tmp_path / 'sub' / 'Task1', labels, '--classes', 'plane', 'ship',
        '--size-ranges', '--out', out]) == 0
    assert 'AP by size (AI-TOD' in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report['AP_vt'] == pytest.approx(1.0, abs=1e-12)
    assert report['AP_s'] == 0.0

import logging
import math

import numpy as np
import pytest
import shapely

from rotated_tod.core.bbox.polygon import polygon_iou
from rotated_tod.core.bbox.transforms import polygon_to_rbox, rbox_to_polygon
from rotated_tod.core.evaluation import (
    dota_task1,
    eval_dota_task1,
    eval_hrsc,
    eval_polygon_map,
    voc_ap,
    write_dota_submission,
)
from rotated_tod.core.fileio import DOTAAnnotation, InputError, parse_dota_labels
from tests.core.evaluation.devkit_reference import reference_ap, reference_voc_eval


def rect(x0, y0, x1, y1):
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def ann(polys, labels, difficult=None):
    polys = np.asarray(polys, np.float64).reshape(-1, 8)
    if difficult is None:
        difficult = np.zeros(len(polys), bool)
    return DOTAAnnotation(polys, np.asarray(labels, np.int64),
                          np.asarray(difficult, bool))


def dets(*rows):
    """(K, 9) polygon + score rows from (polygon, score) pairs."""
    return np.array([list(p) + [s] for p, s in rows], np.float64).reshape(-1, 9)


NONE = np.zeros((0, 9))


def single_class(per_image_rows, gts, difficult=None):
    """One class: detections per image, ground truth per image."""
    results = [[dets(*rows)] for rows in per_image_rows]
    anns = [ann(g, [0] * len(g), None if difficult is None else difficult[i])
            for i, g in enumerate(gts)]
    return results, anns


def test_perfect_and_all_wrong():
    gts = [[rect(0, 0, 10, 10), rect(20, 20, 30, 40)], [rect(5, 5, 9, 9)]]
    perfect = [[(g, 0.9 - 0.1 * k) for k, g in enumerate(img)] for img in gts]
    wrong = [[(np.add(g, 100), 0.9) for g in img] for img in gts]
    for use_07 in (True, False):
        report = eval_polygon_map(*single_class(perfect, gts), 1,
                                  use_07_metric=use_07)
        # the devkit sums 11 points of 1/11: 1 up to rounding
        assert report['mAP'] == pytest.approx(1.0, abs=1e-15)
        assert report['per_class'][0]['recall'] == 1.0
        assert report['per_class'][0]['num_gts'] == 3
        assert report['per_class'][0]['num_dets'] == 3
        assert eval_polygon_map(*single_class(wrong, gts), 1,
                                use_07_metric=use_07)['mAP'] == 0.0


def test_difficult_objects_are_neither_missed_nor_matched():
    gts = [[rect(0, 0, 10, 10), rect(20, 0, 30, 10)]]
    # the first (higher scored) detection hits the difficult object: ignored,
    # so precision stays 1 at the second one; counted as FP it would be 1/2.
    rows = [[(rect(20, 0, 30, 10), 0.9), (rect(0, 0, 10, 10), 0.8)]]
    report = eval_polygon_map(*single_class(rows, gts, [[False, True]]), 1,
                              use_07_metric=False)
    assert report['mAP'] == 1.0
    assert report['per_class'][0]['num_gts'] == 1


def test_difficult_only_and_empty_classes_count_as_zero_in_the_map():
    # class 0: perfect; class 1: only a difficult object (detected);
    # class 2: an object, no detection.
    anns = [ann([rect(0, 0, 10, 10), rect(20, 0, 30, 10), rect(40, 0, 50, 10)],
                [0, 1, 2], [False, True, False])]
    results = [[dets((rect(0, 0, 10, 10), 0.9)),
                dets((rect(20, 0, 30, 10), 0.9)), NONE]]
    report = eval_polygon_map(results, anns, 3, class_names=['a', 'b', 'c'])
    rows = {r['class']: r for r in report['per_class']}
    assert rows['a']['ap'] == pytest.approx(1.0, abs=1e-15)
    assert rows['b']['ap'] == 0.0 and rows['b']['num_gts'] == 0
    assert math.isnan(rows['b']['recall'])
    assert rows['c']['ap'] == 0.0 and rows['c']['num_dets'] == 0
    assert rows['c']['recall'] == 0.0
    assert report['mAP'] == pytest.approx(1 / 3, abs=1e-15)
    assert report['num_classes_without_gts'] == 1


def test_duplicates_are_false_positives():
    gts = [[rect(0, 0, 10, 10), rect(20, 0, 30, 10)]]
    rows = [[(rect(0, 0, 10, 10), 0.9), (rect(0, 0, 10, 9), 0.8),
             (rect(20, 0, 30, 10), 0.7)]]
    # tp 1 0 1, fp 0 1 0: recall .5 .5 1, precision 1 .5 2/3
    area = eval_polygon_map(*single_class(rows, gts), 1, use_07_metric=False)
    assert area['mAP'] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3, abs=1e-15)
    voc07 = eval_polygon_map(*single_class(rows, gts), 1)
    assert voc07['mAP'] == pytest.approx((6 * 1 + 5 * 2 / 3) / 11, abs=1e-15)


def test_best_object_already_taken_is_a_false_positive():
    # the devkit matches a detection only to its highest-IoU object: when
    # that one is taken the detection is a false positive even if another
    # object would exceed the threshold.
    g1, g2 = rect(0, 0, 10, 10), rect(3, 0, 13, 10)
    second = rect(2, 0, 12, 10)
    iou = polygon_iou(np.array([second]), np.array([g1, g2]))[0]
    assert iou[0] > 0.5 and iou[1] > 0.5 and iou[1] > iou[0]
    rows = [[(g2, 0.9), (second, 0.8)]]
    report = eval_polygon_map(*single_class(rows, [[g1, g2]]), 1,
                              use_07_metric=False)
    # tp 1 0, fp 0 1 over 2 objects: recall .5 .5, precision 1 .5
    assert report['mAP'] == 0.5
    assert report['per_class'][0]['recall'] == 0.5


def test_polygon_iou_of_a_non_rectangular_object_decides():
    # a trapezoid whose fitted rectangle is [0,10]x[0,4]; the detection is
    # that rectangle moved up by 0.5: IoU 0.78 with the rectangle (what a
    # rectangle-based evaluation scores) but 0.36 with the real object.
    gt = [0, 0, 10, 0, 5.2, 4, 4.8, 4]
    fitted = rbox_to_polygon(polygon_to_rbox(np.array([gt]))[0])
    det = rect(0, 0.5, 10, 4.5)
    as_rect = shapely.Polygon(np.reshape(fitted, (4, 2)))
    d = shapely.Polygon(np.reshape(det, (4, 2)))
    rect_iou = as_rect.intersection(d).area / as_rect.union(d).area
    poly_iou = polygon_iou(np.array([det]), np.array([gt]))[0, 0]
    assert rect_iou > 0.5 > poly_iou
    report = eval_polygon_map(*single_class([[(det, 0.9)]], [[gt]]), 1)
    assert report['mAP'] == 0.0


def test_iou_exactly_at_threshold_is_not_a_match():
    gt, det = rect(0, 0, 2, 2), rect(0, 0, 2, 1)
    assert polygon_iou(np.array([det]), np.array([gt]))[0, 0] == 0.5
    data = single_class([[(det, 0.9)]], [[gt]])
    assert eval_polygon_map(*data, 1, iou_thr=0.5)['mAP'] == 0.0
    assert eval_polygon_map(*data, 1, iou_thr=0.49)['mAP'] == pytest.approx(
        1.0, abs=1e-15)


def test_hand_computed_pr_curve_11_point_and_area():
    # four objects, detections TP FP TP FP TP (object 4 missed):
    # recall .25 .25 .5 .5 .75, precision 1 .5 2/3 .5 .6
    objects = [rect(20 * k, 0, 20 * k + 10, 10) for k in range(4)]
    far = rect(500, 500, 510, 510)
    rows = [[(objects[0], 0.9), (far, 0.8), (objects[1], 0.7), (far, 0.6),
             (objects[2], 0.5)]]
    # VOC07 points 0, .1, .2 -> 1; .3, .4, .5 -> 2/3; .6, .7 -> .6; rest 0
    voc07 = (3 * 1 + 3 * 2 / 3 + 2 * 0.6) / 11
    # area: .25 * 1 + .25 * 2/3 + .25 * .6 (envelope), then precision 0
    area = 0.25 + 0.25 * 2 / 3 + 0.25 * 0.6
    data = single_class(rows, [objects])
    assert eval_polygon_map(*data, 1)['mAP'] == pytest.approx(voc07, abs=1e-15)
    assert eval_polygon_map(*data, 1, use_07_metric=False)['mAP'] == \
        pytest.approx(area, abs=1e-15)
    recall = np.array([1, 1, 2, 2, 3]) / 4
    precision = np.array([1, 1 / 2, 2 / 3, 2 / 4, 3 / 5])
    assert voc_ap(recall, precision, True) == pytest.approx(voc07, abs=1e-15)
    assert voc_ap(recall, precision, False) == pytest.approx(area, abs=1e-15)


def test_11_point_grid_is_the_devkits_arange():
    # np.arange(0., 1.1, 0.1)[3] is 0.30000000000000004 > 3/10: a recall of
    # exactly 0.3 only reaches the points 0, .1 and .2.
    assert voc_ap(np.array([3]) / 10, np.array([1.0]), True) == \
        pytest.approx(3 / 11, abs=1e-15)


def test_several_thresholds_and_size_recall():
    gts = [[rect(0, 0, 10, 10), rect(100, 0, 120, 20), rect(200, 0, 250, 50),
            rect(300, 0, 400, 100)]]
    # tiny found with IoU 0.8, medium exactly, small and large missed
    rows = [[(rect(0, 0, 10, 8), 0.9), (rect(200, 0, 250, 50), 0.8)]]
    report = eval_polygon_map(*single_class(rows, gts), 1, iou_thr=[0.5, 0.85])
    assert report['mAP_50'] == report['mAP'] == pytest.approx(6 / 11,
                                                              abs=1e-15)
    # at 0.85 the tiny one is a false positive: recall 0 .25, precision 0 .5
    assert report['mAP_85'] == pytest.approx(3 * 0.5 / 11, abs=1e-15)
    assert report['mAP_50_85'] == pytest.approx(
        (report['mAP_50'] + report['mAP_85']) / 2, abs=1e-15)
    assert (report['recall_tiny'], report['recall_small'],
            report['recall_medium'], report['recall_large']) == (1, 0, 1, 0)
    assert [report[f'num_gts_{s}'] for s in ('tiny', 'small', 'medium', 'large')
            ] == [1, 1, 1, 1]


def test_hrsc_numbers():
    gt = rect(0, 0, 10, 10)
    det = rect(0, 0, 10, 7.8)  # IoU 0.78: a match up to the 0.75 threshold
    report = eval_hrsc(*single_class([[(det, 0.9)]], [[gt]]))
    assert report == pytest.approx(
        dict(AP50_07=1.0, AP50_12=1.0, AP75_12=1.0, AP50_95=0.6), abs=1e-15)


def random_scene(seed, num_images=5, num_classes=3):
    """GT: integer-rounded rotated rectangles (so mostly not rectangles),
    some heavily distorted, a few self-intersecting, some difficult.
    Detections: jittered copies (duplicates included) and false alarms,
    all scores distinct."""
    rng = np.random.default_rng(seed)
    anns, results = [], []
    for _ in range(num_images):
        n = rng.integers(3, 12)
        boxes = np.column_stack([
            rng.uniform(0, 150, n), rng.uniform(0, 150, n),
            rng.uniform(10, 40, n), rng.uniform(8, 20, n),
            rng.uniform(-np.pi / 2, np.pi / 2, n)])
        polys = np.round(rbox_to_polygon(boxes))
        distort = rng.random(n) < 0.3
        polys[distort] += rng.normal(0, 2, (int(distort.sum()), 8))
        twist = rng.random(n) < 0.1
        polys[twist] = polys[twist][:, [0, 1, 2, 3, 6, 7, 4, 5]]
        labels = rng.integers(0, num_classes, n)
        anns.append(ann(polys, labels, rng.random(n) < 0.15))
        per_class = []
        for c in range(num_classes):
            mine = boxes[labels == c]
            copies = np.repeat(mine, rng.integers(1, 3, len(mine)), 0)
            copies = copies + rng.normal(0, [1, 1, 1, 1, 0.04], copies.shape)
            alarms = np.column_stack([
                rng.uniform(0, 150, (2, 2)), rng.uniform(4, 30, (2, 2)),
                rng.uniform(-1.5, 1.5, 2)])
            boxes_c = np.concatenate([copies, alarms])
            per_class.append(np.column_stack(
                [boxes_c, rng.uniform(0.05, 1, len(boxes_c))]))
        results.append(per_class)
    return results, anns


@pytest.mark.parametrize('iou_thr', [0.5, 0.7])
def test_agrees_with_devkit_reference_on_random_scenes(iou_thr):
    results, anns = random_scene(0)
    for use_07 in (True, False):
        report = eval_polygon_map(results, anns, 3, iou_thr=iou_thr,
                                  use_07_metric=use_07)
        for c in range(3):
            detections = [(i, row[5], rbox_to_polygon(row[:5]))
                          for i, img in enumerate(results) for row in img[c]]
            truth = {i: [(p, d) for p, lab, d in zip(a.polygons, a.labels,
                                                      a.difficult) if lab == c]
                     for i, a in enumerate(anns)}
            expected = reference_voc_eval(detections, truth, iou_thr, use_07)
            assert report['per_class'][c]['ap'] == pytest.approx(expected,
                                                                 abs=1e-12)
    assert 0.3 < report['mAP'] < 0.95  # a non-trivial scene


@pytest.mark.parametrize('chunk', [1, 5])
def test_pair_chunks_do_not_change_the_matches(monkeypatch, chunk):
    results, anns = random_scene(1)
    whole = dota_task1.match_results(results, anns, 3)
    assert sum(int((m.best_gt >= 0).sum()) for m in whole) > 20
    # chunks smaller than one detection's objects, and of a few detections
    monkeypatch.setattr(dota_task1, 'PAIR_CHUNK', chunk)
    for got, want in zip(dota_task1.match_results(results, anns, 3), whole):
        assert np.array_equal(got.best_gt, want.best_gt)
        # the polygon IoU of a pair may differ in the last bits with the
        # other pairs of its batch (padding changes the summation order)
        assert np.allclose(got.best_iou, want.best_iou, rtol=1e-12, atol=0)


def test_descending_order_is_the_stable_argsort():
    rng = np.random.default_rng(2)
    scores = np.round(rng.random(5000), 2)  # many ties
    scores[:40] = np.where(rng.random(40) < 0.5, 0.0, -0.0)
    for s in (scores, scores[:1], scores[:0], np.full(7, 0.5)):
        assert np.array_equal(dota_task1._descending_order(s),
                              np.argsort(-s, kind='stable'))
    scores[[5, 9]] = np.nan
    assert np.array_equal(dota_task1._descending_order(scores),
                          np.argsort(-scores, kind='stable'))


def test_reference_ap_agrees_with_voc_ap():
    rng = np.random.default_rng(5)
    tp = rng.random(40) < 0.6
    recall = np.cumsum(tp) / 30
    precision = np.cumsum(tp) / np.arange(1, 41)
    for use_07 in (True, False):
        assert voc_ap(recall, precision, use_07) == pytest.approx(
            reference_ap(recall, precision, use_07), abs=1e-15)


LABELS = {
    'P1888': ('imagesource:GoogleEarth\ngsd:0.266170468393\n'
              '674 375 683 375 684 394 675 395 small-vehicle 0\n'
              '683 351 694 351 695 371 684 371 small-vehicle 0\n'
              '465 371 455 372 451 324 460 323 large-vehicle 0\n'
              '451 374 441 375 436 327 445 326 large-vehicle 0\n'
              '439 373 429 374 422 327 433 326 large-vehicle 1\n'),
    'P1088': ('imagesource:GoogleEarth\ngsd:0.1377814038\n'
              '226 738 225 756 191 756 191 739 small-vehicle 0\n'
              '1033 545 948 547 949 490 1032 490 plane 0\n'
              '407 532 323 535 323 479 410 478 plane 0\n'),
}
CLASSES = ('plane', 'small-vehicle', 'large-vehicle', 'ship')


def write_labels(folder):
    folder.mkdir()
    for name, text in LABELS.items():
        (folder / f'{name}.txt').write_text(text)


def test_files_evaluate_like_memory(tmp_path):
    """Real DOTA label lines (non-rectangular quadrilaterals): detections
    written as Task1 files score exactly as the same detections in memory."""
    write_labels(tmp_path / 'labelTxt')
    names = sorted(LABELS)
    anns = [parse_dota_labels(str(tmp_path / 'labelTxt' / f'{n}.txt'), CLASSES)
            for n in names]
    rng = np.random.default_rng(0)
    results = {}
    for name, a in zip(names, anns):
        per_class = []
        for c in range(len(CLASSES)):
            polys = a.polygons[a.labels == c]
            polys = np.round(polys + rng.normal(0, 1.5, polys.shape), 2)
            scores = np.round(rng.uniform(0.1, 1, len(polys)), 6)
            per_class.append(np.column_stack([polys, scores]))
        results[name] = per_class
    write_dota_submission(results, CLASSES, str(tmp_path / 'sub'))
    memory = eval_polygon_map([results[n] for n in names], anns, len(CLASSES),
                              class_names=CLASSES)
    for where in ('sub', 'sub/Task1', 'sub/Task1.zip'):
        files = eval_dota_task1(str(tmp_path / where), str(tmp_path / 'labelTxt'),
                                CLASSES)
        # repr: exact floats, and NaN (no ship objects) equal to itself
        assert repr(files['per_class']) == repr(memory['per_class'])
        assert files['mAP'] == memory['mAP']
    assert memory['per_class'][3]['num_gts'] == 0  # ship: none
    for workers in (2, 3):
        forked = eval_dota_task1(str(tmp_path / 'sub'),
                                 str(tmp_path / 'labelTxt'), CLASSES,
                                 workers=workers)
        assert repr(forked['per_class']) == repr(memory['per_class'])


def test_file_errors_name_the_file_and_line(tmp_path):
    write_labels(tmp_path / 'labelTxt')
    sub = tmp_path / 'sub'
    sub.mkdir()
    for c in CLASSES:
        (sub / f'Task1_{c}.txt').write_text('')
    (sub / 'Task1_plane.txt').write_text(
        'P1088 0.9 0 0 1 0 1 1 0 1\n\nP9999 0.8 0 0 1 0 1 1 0 1\n')
    with pytest.raises(ValueError, match=r'Task1_plane.txt:3: image .P9999'):
        eval_dota_task1(str(sub), str(tmp_path / 'labelTxt'), CLASSES)
    (sub / 'Task1_plane.txt').write_text('P1088 0.9 0 0 1 0 1 1 0\n')
    with pytest.raises(InputError, match=r'Task1_plane.txt:1: expected') as err:
        eval_dota_task1(str(sub), str(tmp_path / 'labelTxt'), CLASSES)
    # raised in a worker process, it arrives whole: type, place and kind
    with pytest.raises(InputError) as forked:
        eval_dota_task1(str(sub), str(tmp_path / 'labelTxt'), CLASSES,
                        workers=2)
    assert vars(forked.value) == vars(err.value)
    assert str(forked.value) == str(err.value)
    with pytest.raises(ValueError, match='workers must be at least 1'):
        eval_dota_task1(str(sub), str(tmp_path / 'labelTxt'), CLASSES,
                        workers=0)
    (sub / 'Task1_ship.txt').unlink()
    with pytest.raises(FileNotFoundError, match='Task1_ship.txt'):
        eval_dota_task1(str(sub), str(tmp_path / 'labelTxt'), CLASSES)


def test_table_goes_through_the_logger(caplog):
    logger = logging.getLogger('rotated_tod.test_eval')
    data = single_class([[(rect(0, 0, 10, 10), 0.9)]], [[rect(0, 0, 10, 10)]])
    with caplog.at_level(logging.INFO, logger='rotated_tod.test_eval'):
        eval_polygon_map(*data, 1, class_names=['ship'], logger=logger)
    assert '| ship' in caplog.text and '1.0000' in caplog.text


def test_input_errors():
    data = single_class([[(rect(0, 0, 10, 10), 0.9)]], [[rect(0, 0, 10, 10)]])
    with pytest.raises(ValueError, match='1 detection results for 2'):
        eval_polygon_map(data[0], data[1] * 2, 1)
    with pytest.raises(ValueError, match='class names'):
        eval_polygon_map(*data, 1, class_names=['a', 'b'])
    with pytest.raises(ValueError, match=r'image 0, class 0: .*shape'):
        eval_polygon_map([[np.zeros((2, 7))]], data[1], 1)
    with pytest.raises(ValueError, match='non-finite'):
        eval_polygon_map([[np.full((1, 6), np.nan)]], data[1], 1)
    with pytest.raises(ValueError, match='IoU thresholds'):
        eval_polygon_map(*data, 1, iou_thr=1.5)

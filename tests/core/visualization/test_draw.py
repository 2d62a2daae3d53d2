"""Drawing rotated boxes and detection errors."""
import numpy as np
import pytest

from rotated_tod.core.bbox.transforms import rbox_to_polygon
from rotated_tod.core.fileio import DOTAAnnotation
from rotated_tod.core.visualization.draw import (
    FN_COLOR,
    FP_COLOR,
    IGNORED_COLOR,
    TP_COLOR,
    class_palette,
    classify_detections,
    draw_detection_errors,
    draw_detections,
    draw_rotated_boxes,
)

NAMES = ('car', 'ship')


def _hue(pixel):
    """The colour direction of a (partly covered, anti-aliased) pixel."""
    v = np.asarray(pixel, float)
    return v / np.linalg.norm(v)


def _assert_colour(img, x, y, color):
    assert img[y, x].any(), f'pixel ({x}, {y}) not drawn'
    np.testing.assert_allclose(_hue(img[y, x]), _hue(color), atol=0.05)


def test_box_outline_only_in_class_colour():
    image = np.zeros((60, 80, 3), np.uint8)
    box = np.array([[30, 30, 40, 20, 0]], float)   # x 10..50, y 20..40
    out = draw_rotated_boxes(image, box, [1], NAMES, show_labels=False)
    assert not image.any()                      # the input is not modified
    palette = class_palette(2)
    for x, y in ((30, 20), (30, 40), (10, 30), (50, 30)):
        _assert_colour(out, x, y, palette[1])
    assert not out[25:36, 15:46].any()          # interior untouched
    assert not out[:17].any() and not out[44:].any()
    # the same rectangle given as a polygon draws the same pixels
    same = draw_rotated_boxes(image, rbox_to_polygon(box), [1], NAMES,
                              show_labels=False)
    np.testing.assert_array_equal(out, same)


def test_score_threshold_and_tags():
    image = np.zeros((60, 80, 3), np.uint8)
    box = np.array([[40, 35, 20, 10, 0.3]], float)
    low = draw_rotated_boxes(image, box, [0], NAMES, scores=[0.2],
                             score_thr=0.3)
    assert not low.any()
    high = draw_rotated_boxes(image, box, [0], NAMES, scores=[0.9],
                              score_thr=0.3)
    plain = draw_rotated_boxes(image, box, [0], NAMES, scores=[0.9],
                               score_thr=0.3, show_labels=False)
    assert high.any() and (high != plain).any()   # the tag adds pixels


def test_draw_detections_flattens_classes():
    image = np.zeros((60, 80, 3), np.uint8)
    dets = [np.array([[20, 20, 10, 6, 0, 0.8]], np.float32),
            np.array([[60, 40, 10, 6, 0, 0.9]], np.float32)]
    out = draw_detections(image, dets, NAMES, score_thr=0.5,
                          show_labels=False)
    palette = class_palette(2)
    _assert_colour(out, 20, 17, palette[0])
    _assert_colour(out, 60, 37, palette[1])


def test_bad_input_is_an_error():
    image = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(ValueError, match='labels'):
        draw_rotated_boxes(image, np.zeros((2, 5)), [0], NAMES)
    with pytest.raises(ValueError, match=r'\(N, 5\)'):
        draw_rotated_boxes(image, np.zeros((2, 6)), [0, 0], NAMES)
    with pytest.raises(ValueError, match='labels must lie'):
        draw_rotated_boxes(image, np.zeros((1, 5)), [2], NAMES)


def _rect(x0, y0, x1, y1):
    return [x0, y0, x1, y0, x1, y1, x0, y1]


GT = DOTAAnnotation(
    np.array([_rect(10, 10, 30, 20),      # A car
              _rect(50, 10, 70, 20),      # B car, difficult
              _rect(10, 50, 30, 60),      # C ship, never detected
              ], float),
    np.array([0, 0, 1]), np.array([False, True, False]))


def _box(x0, y0, x1, y1, score):
    return [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, 0, score]


DETS = [
    np.array([
        _box(10, 10, 30, 20, 0.9),    # A exactly: true positive
        _box(14, 10, 34, 20, 0.8),    # A again (IoU 2/3): false positive
        _box(50, 10, 70, 20, 0.7),    # the difficult B: ignored
        _box(60, 50, 75, 58, 0.6),    # nothing there: false positive
        _box(12, 52, 28, 58, 0.6),    # inside C but the wrong class: FP
        _box(10, 10, 30, 20, 0.1),    # below the score threshold
    ], np.float32),
    np.zeros((0, 6), np.float32),
]


def test_classify_detections_hand_built():
    errors = classify_detections(DETS, GT, iou_thr=0.5, score_thr=0.3)
    assert errors.counts() == dict(tp=1, fp=3, fn=1, ignored=2)
    np.testing.assert_allclose(errors.true_positives[0],
                               [_rect(10, 10, 30, 20)], atol=1e-9)
    np.testing.assert_allclose(errors.misses[0], [_rect(10, 50, 30, 60)])
    assert errors.misses[1].tolist() == [1]
    # A det whose IoU with A is just below the threshold is no match.
    shifted = [np.array([_box(20, 10, 40, 20, 0.9)], np.float32),
               DETS[1]]                   # IoU 1/3
    assert classify_detections(shifted, GT, iou_thr=0.34).counts()['tp'] == 0
    assert classify_detections(shifted, GT, iou_thr=0.33).counts()['tp'] == 1


def test_draw_detection_errors_colours():
    image = np.zeros((80, 90, 3), np.uint8)
    out = draw_detection_errors(image, DETS, GT, score_thr=0.3, legend=False)
    _assert_colour(out, 10, 15, TP_COLOR)          # left edge of A
    _assert_colour(out, 20, 60, FN_COLOR)          # bottom edge of C
    _assert_colour(out, 75, 54, FP_COLOR)          # right edge of the FP
    _assert_colour(out, 60, 10, IGNORED_COLOR)     # top edge of B
    with_legend = draw_detection_errors(image, DETS, GT, score_thr=0.3)
    assert (with_legend[:40, :60] != out[:40, :60]).any()

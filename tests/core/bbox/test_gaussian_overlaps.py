"""Tests of RBboxGaussianOverlaps2D (Gaussian similarity as an IoU
calculator) and of assignment with it."""
import math

import pytest
import torch
from mmdet.core.bbox import build_assigner
from mmrotate.core.bbox.iou_calculators import build_iou_calculator

import rotated_tod  # noqa: F401  (registers the calculator)
from rotated_tod.core.bbox.gaussian import gaussian_similarity


def boxes_with_scores():
    boxes = torch.tensor([[10.0, 10.0, 8.0, 4.0, 0.1, 0.9],
                          [30.0, 12.0, 6.0, 6.0, -0.4, 0.8],
                          [11.0, 10.0, 8.0, 4.0, 0.1, 0.7]])
    return boxes


@pytest.mark.parametrize('metric', ['nwd', 'kld', 'gwd', 'bcd', 'jd'])
def test_pairwise_aligned_and_score_column(metric):
    calc = build_iou_calculator(
        dict(type='RBboxGaussianOverlaps2D', metric=metric))
    boxes = boxes_with_scores()
    want = gaussian_similarity(boxes[:, :5], boxes[:2, :5], metric)
    torch.testing.assert_close(calc(boxes, boxes[:2]), want)
    torch.testing.assert_close(calc(boxes[:, :5], boxes[:2, :5]), want)
    torch.testing.assert_close(
        calc(boxes[:2], boxes[:2], is_aligned=True), want[:2].diagonal())
    assert calc(boxes, boxes[:0]).shape == (3, 0)
    assert calc(boxes[:0], boxes, is_aligned=False).shape == (0, 3)


def test_params_and_errors():
    calc = build_iou_calculator(
        dict(type='RBboxGaussianOverlaps2D', metric='nwd', C=2.0))
    boxes = boxes_with_scores()[:, :5]
    # boxes 0 and 2: same shape, 1 px apart
    assert float(calc(boxes[:1], boxes[2:])) == pytest.approx(math.exp(-0.5))
    assert 'C=2.0' in repr(calc)
    with pytest.raises(ValueError, match='iou'):
        calc(boxes, boxes, mode='iof')
    with pytest.raises(ValueError, match='is_aligned'):
        calc(boxes, boxes[:2], is_aligned=True)
    with pytest.raises(ValueError, match=r'\(n, 5\)'):
        calc(boxes[:, :4], boxes)
    with pytest.raises(ValueError, match='metric'):
        build_iou_calculator(dict(type='RBboxGaussianOverlaps2D',
                                  metric='iou'))
    with pytest.raises(TypeError, match='unknown'):
        build_iou_calculator(dict(type='RBboxGaussianOverlaps2D',
                                  metric='nwd', tau=2.0))


def test_max_iou_assigner_assigns_tiny_objects_by_nwd():
    """A 4 x 4 object between anchors: rotated IoU with every anchor is below
    the positive threshold, NWD picks the nearest anchor of similar size."""
    gt = torch.tensor([[20.0, 20.0, 4.0, 4.0, 0.0]])
    anchors = torch.tensor([[16.0, 16.0, 4.0, 4.0, 0.0],
                            [21.0, 21.0, 4.0, 4.0, 0.0],
                            [20.0, 20.0, 32.0, 32.0, 0.0],
                            [60.0, 60.0, 4.0, 4.0, 0.0]])
    common = dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4,
                  min_pos_iou=0.45, ignore_iof_thr=-1)
    by_iou = build_assigner(
        dict(iou_calculator=dict(type='RBboxOverlaps2D'), **common))
    by_nwd = build_assigner(
        dict(iou_calculator=dict(type='RBboxGaussianOverlaps2D',
                                 metric='nwd'), **common))
    iou_result = by_iou.assign(anchors, gt, gt_labels=torch.tensor([2]))
    nwd_result = by_nwd.assign(anchors, gt, gt_labels=torch.tensor([2]))
    # IoU of anchor 1 is 9/23 < 0.4 (and < min_pos_iou): all negative
    assert iou_result.gt_inds.tolist() == [0, 0, 0, 0]
    # NWD: anchor 1 (sqrt(2) px away) positive, anchor 0 (5.7 px) too
    # (exp(-5.66/12.8) = 0.64), the large and the far anchors negative
    assert nwd_result.gt_inds.tolist() == [1, 1, 0, 0]
    assert nwd_result.labels.tolist() == [2, 2, -1, -1]

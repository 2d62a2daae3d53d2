"""RotatedTaskAlignedAssigner on hand-built cases: the metric, top-k, the
inside test, conflicts, the sub-stride fallback and the Gaussian option."""
import pytest
import torch

from rotated_tod.core.bbox.assigners import RotatedTaskAlignedAssigner
from rotated_tod.core.bbox.gaussian import gaussian_similarity

GT = torch.tensor([[50.0, 50.0, 10.0, 10.0, 0.0]])


def boxes_at(xs):
    return torch.tensor([[x, 50.0, 10.0, 10.0, 0.0] for x in xs])


def case():
    """Locations on the GT's axis; a 10 x 10 box shifted by d along x has
    IoU (10 - d) / (10 + d) with the GT."""
    points = torch.tensor([[50.0, 50.0], [52.0, 50.0], [54.0, 50.0],
                           [56.0, 50.0], [80.0, 80.0]])
    boxes = boxes_at([50.0, 51.0, 53.0, 50.0, 80.0])
    scores = torch.tensor([[0.2, 0.5], [0.9, 0.1], [0.9, 0.1], [0.99, 0.1],
                           [0.99, 0.1]])
    ious = torch.tensor([1.0, 9 / 11, 7 / 13, 1.0, 0.0])
    return scores, boxes, points, ious


def test_metric_topk_and_inside_test():
    scores, boxes, points, ious = case()
    assigner = RotatedTaskAlignedAssigner(topk=2, alpha=1.0, beta=2.0)
    result = assigner.assign(scores, boxes, points, GT, torch.tensor([0]))
    # t = s * IoU^2: 0.2, 0.602, 0.261, 0.99 (outside: x = 56), 0.
    # Top-2 by t are locations 3 (outside the GT) and 1: only 1 stays.
    assert result.gt_inds.tolist() == [0, 1, 0, 0, 0]
    assert result.labels.tolist() == [-1, 0, -1, -1, -1]
    expected = 0.9 * (9 / 11)**2
    assert result.assign_metrics[1].item() == pytest.approx(expected,
                                                            rel=1e-5)
    assert result.max_overlaps[1].item() == pytest.approx(9 / 11, rel=1e-5)
    assert result.assign_metrics[[0, 2, 3, 4]].abs().sum() == 0


def test_larger_topk_takes_more_positives_by_metric():
    scores, boxes, points, ious = case()
    assigner = RotatedTaskAlignedAssigner(topk=4, alpha=0.5, beta=3.0)
    result = assigner.assign(scores, boxes, points, GT, torch.tensor([0]))
    assert result.gt_inds.tolist() == [1, 1, 1, 0, 0]
    expected = scores[:, 0].sqrt() * ious**3
    torch.testing.assert_close(result.assign_metrics[:3], expected[:3])


def test_a_location_chosen_by_two_gts_goes_to_the_better_overlap():
    gts = torch.tensor([[50.0, 50.0, 10.0, 10.0, 0.0],
                        [53.0, 50.0, 10.0, 10.0, 0.0]])
    points = torch.tensor([[52.0, 50.0]])
    boxes = boxes_at([52.0])  # IoU 8/12 with GT 0, 9/11 with GT 1
    scores = torch.tensor([[0.8, 0.8]])
    result = RotatedTaskAlignedAssigner(topk=1).assign(
        scores, boxes, points, gts, torch.tensor([0, 1]))
    assert result.gt_inds.tolist() == [2]
    assert result.labels.tolist() == [1]


def test_sub_stride_gt_gets_its_nearest_location():
    points = torch.tensor([[4.0, 4.0], [12.0, 4.0], [4.0, 12.0]])
    boxes = torch.tensor([[4.0, 4.0, 8.0, 8.0, 0.0]] * 3)
    tiny = torch.tensor([[10.5, 6.0, 2.0, 1.0, 0.3]])  # contains no point
    scores = torch.full((3, 1), 0.5)
    on = RotatedTaskAlignedAssigner(topk=3).assign(
        scores, boxes, points, tiny, torch.tensor([0]))
    assert on.gt_inds.tolist() == [0, 1, 0]
    off = RotatedTaskAlignedAssigner(topk=3, ensure_positive=False).assign(
        scores, boxes, points, tiny, torch.tensor([0]))
    assert off.gt_inds.tolist() == [0, 0, 0]


def test_gaussian_similarity_replaces_iou():
    scores, boxes, points, _ = case()
    assigner = RotatedTaskAlignedAssigner(
        topk=3, alpha=1.0, beta=2.0,
        iou_calculator=dict(type='RBboxGaussianOverlaps2D', metric='kld'))
    result = assigner.assign(scores, boxes, points, GT, torch.tensor([0]))
    positive = result.gt_inds > 0
    similarity = gaussian_similarity(boxes[positive], GT, 'kld')[:, 0]
    torch.testing.assert_close(result.assign_metrics[positive],
                               scores[positive, 0] * similarity**2)


def test_no_gt_gives_only_negatives():
    scores, boxes, points, _ = case()
    result = RotatedTaskAlignedAssigner().assign(
        scores, boxes, points, torch.zeros(0, 5),
        torch.zeros(0, dtype=torch.long))
    assert (result.gt_inds == 0).all() and (result.assign_metrics == 0).all()

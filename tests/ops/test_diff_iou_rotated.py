"""diff_iou_rotated_2d: values against shapely, gradients by gradcheck,
degenerate boxes."""
import math

import numpy as np
import pytest
import torch

from rotated_tod.ops import diff_iou_rotated_2d

from .shapely_reference import random_rboxes, rbox_iou

HAND_BUILT = [
    # (box1, box2, IoU)
    ((10, 10, 4, 2, 0.3), (10, 10, 4, 2, 0.3), 1.0),  # identical
    ((0, 0, 10, 10, 0.2), (1, 1, 2, 3, 1.0), 6 / 100),  # nested
    ((0, 0, 2, 2, 0), (2, 0, 2, 2, 0), 0.0),  # touching along an edge
    ((0, 0, 2, 2, 0), (2, 2, 2, 2, 0), 0.0),  # touching at a corner
    ((0, 0, 2, 2, 0), (5, 5, 2, 2, 0.7), 0.0),  # disjoint
    ((0, 0, 2, 2, 0), (1, 0, 2, 2, 0), 2 / 6),  # half overlap
    # one vertex of a 45-degree square 1 px inside the other square: the
    # triangle (0, 0), (1, 1), (1, -1) of area 1
    ((0, 0, 2, 2, 0), (math.sqrt(2), 0, 2, 2, math.pi / 4), 1 / 7),
    ((0, 0, 100, 1, 0), (0, 0, 100, 1, math.pi / 2), 1 / 199),  # thin cross
    ((0, 0, 100, 1, 0), (0, 0.5, 100, 1, 0), 50 / 150),  # thin, shifted
    ((0, 0, 100, 1, 0), (0, 0, 100, 1, math.pi), 1.0),  # half turn
]


@pytest.mark.parametrize('box1,box2,want', HAND_BUILT)
def test_hand_built(box1, box2, want):
    iou = diff_iou_rotated_2d(
        torch.tensor([[box1]], dtype=torch.float64),
        torch.tensor([[box2]], dtype=torch.float64))
    assert iou.shape == (1, 1)
    assert iou.item() == pytest.approx(want, abs=1e-12)
    assert iou.item() == pytest.approx(rbox_iou(box1, box2), abs=1e-12)


def test_thin_boxes_at_small_angles_match_shapely():
    # 1:100 boxes turned by a small angle: the intersection is a thin
    # parallelogram whose corners come from nearly parallel edges.
    boxes1, boxes2 = [], []
    for angle in (1e-3, 1e-2, 0.05, 0.3):
        for dy in (0.0, 0.3):
            boxes1.append((0, 0, 100, 1, 0))
            boxes2.append((0, dy, 100, 1, angle))
    iou = diff_iou_rotated_2d(torch.tensor(boxes1, dtype=torch.float64),
                              torch.tensor(boxes2, dtype=torch.float64))
    want = [rbox_iou(a, b) for a, b in zip(boxes1, boxes2)]
    np.testing.assert_allclose(iou.numpy(), want, rtol=0, atol=1e-10)


def test_random_pairs_match_shapely():
    rng = np.random.default_rng(0)
    boxes1, boxes2 = random_rboxes(rng, 400), random_rboxes(rng, 400)
    want = np.array([rbox_iou(a, b) for a, b in zip(boxes1, boxes2)])
    assert (want > 0.05).sum() > 100 and (want == 0).sum() > 20
    got = diff_iou_rotated_2d(torch.from_numpy(boxes1)[None],
                              torch.from_numpy(boxes2)[None])[0]
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-10)
    # float32: coordinates up to ~30 px carry ~4e-6 px of rounding, so an
    # area of >= 1 px^2 moves by at most ~2e-4 of itself: 1e-4 on the IoU
    # is far above the observed ~1e-6.
    got32 = diff_iou_rotated_2d(torch.from_numpy(boxes1).float(),
                                torch.from_numpy(boxes2).float())
    assert got32.dtype == torch.float32
    np.testing.assert_allclose(got32.numpy(), want, rtol=0, atol=1e-4)


def test_gradcheck_float64():
    rng = np.random.default_rng(1)
    boxes1 = random_rboxes(rng, 12, spread=6)
    boxes2 = boxes1 + rng.normal(0, 1.0, boxes1.shape)
    boxes2[:, 2:4] = np.abs(boxes2[:, 2:4]) + 0.5
    ious = [rbox_iou(a, b) for a, b in zip(boxes1, boxes2)]
    assert min(ious) > 0.01  # every pair overlaps: gradients are non-zero
    box1 = torch.from_numpy(boxes1).requires_grad_()
    box2 = torch.from_numpy(boxes2).requires_grad_()
    assert torch.autograd.gradcheck(diff_iou_rotated_2d, (box1, box2))


def test_degenerate_boxes_are_finite():
    box1 = torch.tensor([[0, 0, 0, 0, 0], [0, 0, 2, 0, 0.3], [0, 0, 0, 2, 0],
                         [0, 0, 2, 2, 0], [3, 3, 0, 0, 0.1]],
                        dtype=torch.float64, requires_grad=True)
    box2 = torch.tensor([[0, 0, 0, 0, 0], [0, 0, 2, 2, 0], [0, 0, 2, 2, 0],
                         [1, 1, 0, 0, 0], [3, 3, 0, 0, 0.1]],
                        dtype=torch.float64, requires_grad=True)
    iou = diff_iou_rotated_2d(box1, box2)
    assert torch.equal(iou, torch.zeros(5, dtype=torch.float64))
    (-(iou + 1e-6).log()).sum().backward()
    assert torch.isfinite(box1.grad).all() and torch.isfinite(box2.grad).all()


def test_shape_errors():
    with pytest.raises(ValueError, match=r'\(\.\.\., 5\)'):
        diff_iou_rotated_2d(torch.zeros(2, 5), torch.zeros(3, 5))

"""RotatedATSSAssigner: a hand-built case, the inside test for rotated GTs,
the sub-stride fallback, and a brute-force cross-check."""
import numpy as np
import pytest
import torch

from rotated_tod.core.bbox.assigners import RotatedATSSAssigner
from rotated_tod.core.bbox.assigners.rotated_atss_assigner import (
    points_in_rotated_boxes,
)
from rotated_tod.core.bbox.rotated_overlaps import rbbox_overlaps_sparse


def test_hand_built_single_level():
    # Priors 10 x 10 at x = 1, 0, 4, 8, 30; GT 10 x 10 at x = 1.
    # Nearest 4: x = 1, 0, 4, 8 with IoU 1, 9/11, 7/13, 3/17;
    # mean 0.633, std 0.359 -> threshold 0.992: only the first.
    priors = torch.tensor([[x, 0.0, 10.0, 10.0, 0.0]
                           for x in (1.0, 0.0, 4.0, 8.0, 30.0)])
    gt = torch.tensor([[1.0, 0.0, 10.0, 10.0, 0.0]])
    result = RotatedATSSAssigner(topk=4).assign(priors, [5], gt,
                                                torch.tensor([2]))
    assert result.gt_inds.tolist() == [1, 0, 0, 0, 0]
    assert result.labels.tolist() == [2, -1, -1, -1, -1]
    assert result.max_overlaps[0].item() == pytest.approx(1.0, abs=1e-5)


def test_points_in_rotated_boxes():
    box = torch.tensor([10.0, 10.0, 20.0, 2.0, np.pi / 4])
    along = torch.tensor([10.0 + 6.0, 10.0 + 6.0])  # on the long axis
    across = torch.tensor([10.0 + 3.0, 10.0 - 3.0])  # across it
    inside = points_in_rotated_boxes(torch.stack([along, across]), box)
    assert inside.tolist() == [True, False]


def brute_force(priors, counts, gts, topk):
    """ATSS written out with loops (independent of the vectorised code)."""
    overlaps = rbbox_overlaps_sparse(priors, gts).numpy()
    centres, gt_centres = priors[:, :2].numpy(), gts[:, :2].numpy()
    best = np.full(len(priors), -1.0)
    owner = np.zeros(len(priors), dtype=int)
    for g in range(len(gts)):
        candidates, start = [], 0
        for count in counts:
            dist = np.linalg.norm(centres[start:start + count] - gt_centres[g],
                                  axis=1)
            candidates += list(np.argsort(dist, kind='stable')[:topk] + start)
            start += count
        values = overlaps[candidates, g]
        threshold = values.mean() + values.std(ddof=1)
        for c, v in zip(candidates, values):
            inside = points_in_rotated_boxes(priors[c, :2], gts[g]).item()
            if v >= threshold and inside and v > best[c]:
                best[c], owner[c] = v, g + 1
    return owner


def test_matches_a_brute_force_implementation():
    rng = np.random.default_rng(3)
    levels = []
    for stride in (8, 16):
        xs, ys = np.meshgrid(np.arange(0, 96, stride) + stride / 2,
                             np.arange(0, 96, stride) + stride / 2)
        side = np.full(xs.size, 4.0 * stride)
        levels.append(np.stack([xs.ravel(), ys.ravel(), side, side,
                                np.zeros(xs.size)], 1))
    priors = torch.tensor(np.concatenate(levels), dtype=torch.float32)
    counts = [len(lv) for lv in levels]
    gts = torch.tensor(np.stack([
        rng.uniform(20, 76, 5), rng.uniform(20, 76, 5),
        rng.uniform(12, 40, 5), rng.uniform(6, 20, 5),
        rng.uniform(-1.5, 1.5, 5)
    ], 1), dtype=torch.float32)
    result = RotatedATSSAssigner(topk=5, ensure_positive=False).assign(
        priors, counts, gts, torch.arange(5))
    expected = brute_force(priors, counts, gts, 5)
    assert (expected > 0).sum() >= 5
    assert result.gt_inds.tolist() == expected.tolist()


def test_sub_stride_gt_gets_its_nearest_prior():
    priors = torch.tensor([[4.0, 4.0, 32.0, 32.0, 0.0],
                           [12.0, 4.0, 32.0, 32.0, 0.0]])
    tiny = torch.tensor([[9.0, 5.0, 2.0, 1.0, 0.0]])
    result = RotatedATSSAssigner(topk=2).assign(priors, [2], tiny,
                                                torch.tensor([0]))
    assert result.gt_inds.tolist() == [0, 1]
    with pytest.raises(ValueError):
        RotatedATSSAssigner().assign(priors, [3], tiny, torch.tensor([0]))

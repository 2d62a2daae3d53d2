"""RFLA's hierarchical assignment on rotated GTs, against a reference
written here (loops over numpy KL divergences), and its invariants."""
import math

import numpy as np
import torch
from mmrotate.core.bbox.builder import build_assigner

import rotated_tod  # noqa: F401  (registers the assigner)


def covariance(box) -> np.ndarray:
    _, _, w, h, theta = box
    rot = np.array([[math.cos(theta), -math.sin(theta)],
                    [math.sin(theta), math.cos(theta)]])
    return rot @ np.diag([w * w / 4, h * h / 4]) @ rot.T


def kl(box1, box2) -> float:
    """KL(N1 || N2), textbook formula."""
    s1, s2 = covariance(box1), covariance(box2)
    inv2 = np.linalg.inv(s2)
    delta = np.asarray(box1[:2]) - np.asarray(box2[:2])
    return 0.5 * (np.trace(inv2 @ s1) + delta @ inv2 @ delta - 2 +
                  math.log(np.linalg.det(s2) / np.linalg.det(s1)))


def reference(priors_xyxy, gts, topk=(3, 1), ratio=0.9, neg_thr=0.8):
    """gt_inds of RFLA's two stages (0 neg, -1 ignored, g + 1 positive)."""
    boxes = [((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, 0.0)
             for x1, y1, x2, y2 in priors_xyxy]
    sim = np.array([[1 / (1 + kl(p, g)) for g in gts] for p in boxes])
    inds = np.where(sim.max(1) >= neg_thr, -1, 0)
    best = {}
    for g in range(len(gts)):
        for i in np.argsort(-sim[:, g], kind='stable')[:topk[0]]:
            if i not in best or sim[i, g] > sim[i, best[i]]:
                best[i] = g
    for i, g in best.items():
        inds[i] = g + 1
    shrunk = [(x, y, w * ratio, h * ratio, t) for x, y, w, h, t in boxes]
    sim2 = np.array([[1 / (1 + kl(p, g)) for g in gts] for p in shrunk])
    free = [i for i in range(len(boxes)) if i not in best]
    best2 = {}
    for g in range(len(gts)):
        order = sorted(free, key=lambda i: -sim2[i, g])[:topk[1]]
        for i in order:
            if i not in best2 or sim2[i, g] > sim2[i, best2[i]]:
                best2[i] = g
    for i, g in best2.items():
        inds[i] = g + 1
    return inds


def scene():
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 96, (40, 2))
    sides = rng.choice([8.0, 16.0, 24.0], (40, 1))
    ratios = rng.choice([0.5, 1.0, 2.0], (40, 1))
    w, h = sides / np.sqrt(ratios), sides * np.sqrt(ratios)
    half = np.concatenate([w, h], 1) / 2
    priors = np.concatenate([centres - half, centres + half], 1)
    gts = [(30.0, 40.0, 20.0, 6.0, 0.5), (70.0, 60.0, 10.0, 10.0, -1.0),
           (50.0, 20.0, 30.0, 8.0, 1.2)]
    return priors, gts


def test_matches_the_reference():
    priors, gts = scene()
    assigner = build_assigner(dict(type='RFLAHierarchicalAssigner'))
    anchors = torch.tensor(priors, dtype=torch.float64)
    before = anchors.clone()
    result = assigner.assign(anchors, torch.tensor(gts, dtype=torch.float64))
    want = reference(priors, gts)
    np.testing.assert_array_equal(result.gt_inds.numpy(), want)
    assert set(result.gt_inds[result.gt_inds > 0].tolist()) == {1, 2, 3}
    assert result.labels is None  # an RPN passes no labels
    # The priors are not modified (the published defect shrank them).
    assert torch.equal(anchors, before)


def test_labels_and_angle_dependence():
    priors, gts = scene()
    assigner = build_assigner(dict(type='RFLAHierarchicalAssigner'))
    anchors = torch.tensor(priors, dtype=torch.float64)
    gt = torch.tensor(gts, dtype=torch.float64)
    result = assigner.assign(anchors, gt, gt_labels=torch.tensor([4, 2, 7]))
    positive = result.gt_inds > 0
    assert (result.labels[positive] == torch.tensor([4, 2, 7])[
        result.gt_inds[positive] - 1]).all()
    # A thin GT rotated by 90 degrees picks other priors: the assignment
    # uses the full rotated covariance, not a horizontal hull.
    turned = gt.clone()
    turned[:, 4] += math.pi / 2
    other = assigner.assign(anchors, turned)
    assert not torch.equal(other.gt_inds, result.gt_inds)
    np.testing.assert_array_equal(
        other.gt_inds.numpy(),
        reference(priors, [tuple(g) for g in turned.tolist()]))

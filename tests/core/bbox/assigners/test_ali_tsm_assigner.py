"""Ali-TSM on hand-built scenes; expectations come from closed forms written
here in numpy (Mahalanobis distances, KL of 2x2 Gaussians) and from shapely
polygons, not from rotated_tod's Gaussian module."""
import math

import numpy as np
import pytest
import torch
from mmrotate.core.bbox.builder import build_assigner
from mmrotate.core.bbox.iou_calculators import RBboxOverlaps2D
from shapely.geometry import Polygon

import rotated_tod  # noqa: F401  (registers the assigner)
from rotated_tod.core.bbox.assigners.ali_tsm_assigner import AliTSMAssigner

STRIDE = 8
SIDE = 16.0


def grid_priors(size: int = 12, stride: int = STRIDE,
                side: float = SIDE) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size),
                            indexing='ij')
    centers = (torch.stack([xs, ys], -1).reshape(-1, 2).double() + 0.5) \
        * stride
    return torch.cat([
        centers, torch.full((size * size, 2), side, dtype=torch.float64),
        torch.zeros(size * size, 1, dtype=torch.float64)
    ], 1)


def covariance(box) -> np.ndarray:
    _, _, w, h, theta = box
    rot = np.array([[math.cos(theta), -math.sin(theta)],
                    [math.sin(theta), math.cos(theta)]])
    return rot @ np.diag([w * w / 4, h * h / 4]) @ rot.T


def kl(box1, box2) -> float:
    """KL(N1 || N2) of two boxes, textbook formula."""
    s1, s2 = covariance(box1), covariance(box2)
    inv2 = np.linalg.inv(s2)
    delta = np.asarray(box1[:2]) - np.asarray(box2[:2])
    return 0.5 * (np.trace(inv2 @ s1) + delta @ inv2 @ delta - 2 +
                  math.log(np.linalg.det(s2) / np.linalg.det(s1)))


def mahalanobis(points: np.ndarray, box) -> np.ndarray:
    delta = points - np.asarray(box[:2])
    return np.einsum('ni,ij,nj->n', delta, np.linalg.inv(covariance(box)),
                     delta)


def polygon(box) -> Polygon:
    x, y, w, h, theta = box
    c, s = math.cos(theta), math.sin(theta)
    corners = [(dx * w / 2, dy * h / 2)
               for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    return Polygon([(x + c * u - s * v, y + s * u + c * v)
                    for u, v in corners])


def shapely_iou(box1, box2) -> float:
    p1, p2 = polygon(box1), polygon(box2)
    return p1.intersection(p2).area / p1.union(p2).area


def positives_of(result, gt_index: int) -> set:
    return set((result.gt_inds == gt_index + 1).nonzero().flatten().tolist())


TINY_GT = (40.7, 40.3, 20.0, 3.0, 0.3)


def assign(priors, gts, topk=(3, 1), logits=None, labels=None, **kwargs):
    assigner = AliTSMAssigner(topk=topk, **kwargs)
    gts = torch.tensor(gts, dtype=torch.float64).reshape(-1, 5)
    if logits is None:
        logits = torch.zeros(priors.size(0), 2, dtype=torch.float64)
    if labels is None:
        labels = torch.zeros(gts.size(0), dtype=torch.long)
    return assigner.assign(priors, logits, gts, labels)


def test_tiny_rotated_gt_takes_its_topk_along_its_long_axis():
    priors = grid_priors()
    result = assign(priors, [TINY_GT], topk=(3, 0))
    # Equal isotropic priors and equal scores: m1 ranks by the Mahalanobis
    # distance to the GT (the only KL term that varies).
    dist = mahalanobis(priors[:, :2].numpy(), TINY_GT)
    order = np.argsort(dist)
    assert dist[order[3]] - dist[order[2]] > 1e-3  # the scene has no tie
    assert positives_of(result, 0) == set(order[:3].tolist())
    # ... which is not the Euclidean top 3: the positives follow the axis.
    euclid = np.linalg.norm(priors[:, :2].numpy() - TINY_GT[:2], axis=1)
    assert positives_of(result, 0) != set(np.argsort(euclid)[:3].tolist())
    c, s = math.cos(TINY_GT[4]), math.sin(TINY_GT[4])
    for index in positives_of(result, 0):
        dx, dy = priors[index, :2].numpy() - TINY_GT[:2]
        along, across = c * dx + s * dy, -s * dx + c * dy
        assert abs(along) > abs(across)
    # Stage-1 metric of a positive: 0.5 * (1 / (1 + KL(prior || GT)))^7.
    best = int(order[0])
    expected = 0.5 * (1 / (1 + kl(priors[best].tolist(), TINY_GT)))**7
    assert float(result.max_overlaps[best]) == pytest.approx(expected,
                                                             rel=1e-9)


def test_second_stage_adds_exactly_k2_by_shrunk_rotated_iou():
    priors = grid_priors()
    stage1 = positives_of(assign(priors, [TINY_GT], topk=(3, 0)), 0)
    both = positives_of(assign(priors, [TINY_GT], topk=(3, 1)), 0)
    assert stage1 < both and len(both - stage1) == 1
    # Equal scores: m2 ranks by IoU(prior shrunk by 0.9, GT) (shapely here).
    ious = np.array([
        0.0 if i in stage1 else shapely_iou(
            (*priors[i, :2].tolist(), SIDE * 0.9, SIDE * 0.9, 0.0), TINY_GT)
        for i in range(priors.size(0))
    ])
    top2 = np.sort(ious)[-2:]
    assert top2[1] - top2[0] > 1e-6
    assert both - stage1 == {int(ious.argmax())}
    three = positives_of(assign(priors, [TINY_GT], topk=(3, 3)), 0)
    assert len(three - stage1) == 3 and both <= three


def test_second_stage_with_the_kld_similarity():
    priors = grid_priors()
    result = assign(priors, [TINY_GT], topk=(3, 1),
                    overlap_calculator=dict(type='RBboxGaussianOverlaps2D',
                                            metric='kld'))
    # Shrunk priors are still equal and isotropic: the KLD similarity ranks
    # by the Mahalanobis distance again, so the positives are its top 4.
    order = np.argsort(mahalanobis(priors[:, :2].numpy(), TINY_GT))
    assert positives_of(result, 0) == set(order[:4].tolist())


def test_two_gts_each_get_k1_plus_k2():
    priors = grid_priors(size=16)
    other = (96.2, 30.9, 10.0, 4.0, -1.1)
    result = assign(priors, [TINY_GT, other], topk=(3, 1),
                    labels=torch.tensor([0, 1]))
    assert len(positives_of(result, 0)) == 4
    assert len(positives_of(result, 1)) == 4
    positive = result.gt_inds > 0
    assert torch.equal(result.labels[positive],
                       result.gt_inds[positive] - 1)
    assert torch.all(result.labels[~positive] == -1)


def test_negative_threshold_and_ignored_priors():
    # GT equal to the first prior; same-size isotropic Gaussians have
    # KL = 2 |delta|^2 / side^2.
    offsets = [0.0, 0.5, 1.0, 8.0]
    priors = torch.tensor([[100 + d, 100, SIDE, SIDE, 0] for d in offsets],
                          dtype=torch.float64)
    score = 0.99
    logits = torch.full((4, 1), math.log(score / (1 - score)),
                        dtype=torch.float64)
    result = assign(priors, [(100, 100, SIDE, SIDE, 0)], topk=(1, 0),
                    logits=logits)
    m1 = [score * (1 / (1 + 2 * d * d / SIDE**2))**7 for d in offsets]
    assert m1[2] >= 0.8 > m1[3]
    assert result.gt_inds.tolist() == [1, -1, -1, 0]
    assert result.max_overlaps.tolist() == pytest.approx(m1, rel=1e-9)


def test_scores_break_geometric_ties():
    # Two priors mirror-symmetric about the GT centre along its axis.
    gt = (50.0, 50.0, 12.0, 3.0, 0.0)
    priors = torch.tensor([[44, 50, SIDE, SIDE, 0], [56, 50, SIDE, SIDE, 0]],
                          dtype=torch.float64)
    for better in (0, 1):
        logits = torch.zeros(2, 1, dtype=torch.float64)
        logits[better] = 1.0
        result = assign(priors, [gt], topk=(1, 0), logits=logits)
        assert positives_of(result, 0) == {better}


def test_shared_priors_are_never_modified_and_batches_do_not_interact():
    priors = grid_priors()
    copy = priors.clone()
    logits = torch.randn(priors.size(0), 2, generator=torch.Generator()
                         .manual_seed(0), dtype=torch.float64)
    gts_a = [TINY_GT]
    gts_b = [(20.3, 70.6, 14.0, 5.0, -0.7), (75.1, 20.2, 30.0, 6.0, 1.2)]
    alone_b = assign(priors.clone(), gts_b, logits=logits,
                     labels=torch.tensor([1, 0]))
    first_a = assign(priors, gts_a, logits=logits)
    after_b = assign(priors, gts_b, logits=logits,
                     labels=torch.tensor([1, 0]))
    again_a = assign(priors, gts_a, logits=logits)
    assert torch.equal(priors, copy)
    assert torch.equal(alone_b.gt_inds, after_b.gt_inds)
    assert torch.equal(first_a.gt_inds, again_a.gt_inds)
    assert torch.equal(first_a.max_overlaps, again_a.max_overlaps)


def test_empty_gts_and_empty_priors():
    priors = grid_priors(size=4)
    result = assign(priors, [])
    assert result.num_gts == 0
    assert torch.all(result.gt_inds == 0) and torch.all(result.labels == -1)
    assert result.gt_inds.shape == (16, )
    empty = assign(priors[:0], [TINY_GT])
    assert empty.gt_inds.shape == (0, )


def test_many_gts():
    generator = torch.Generator().manual_seed(1)
    priors = grid_priors(size=32, stride=8, side=17.5)
    num_gts = 150
    gts = torch.cat([
        torch.rand(num_gts, 2, generator=generator,
                   dtype=torch.float64) * 256,
        torch.rand(num_gts, 2, generator=generator,
                   dtype=torch.float64) * 20 + 2,
        (torch.rand(num_gts, 1, generator=generator, dtype=torch.float64) -
         0.5) * math.pi
    ], 1)
    labels = torch.randint(0, 3, (num_gts, ), generator=generator)
    logits = torch.randn(priors.size(0), 3, generator=generator,
                         dtype=torch.float64)
    result = AliTSMAssigner().assign(priors, logits, gts, labels)
    counts = torch.bincount(result.gt_inds[result.gt_inds > 0] - 1,
                            minlength=num_gts)
    assert counts.max() <= 4 and counts.sum() > 3 * num_gts
    positive = result.gt_inds > 0
    assert torch.equal(result.labels[positive],
                       labels[result.gt_inds[positive] - 1])


def test_default_stage2_overlap_is_exact_rotated_iou():
    generator = torch.Generator().manual_seed(2)
    priors = grid_priors(size=16, stride=8, side=14.4)
    gts = torch.cat([
        torch.rand(40, 2, generator=generator, dtype=torch.float64) * 128,
        torch.rand(40, 2, generator=generator, dtype=torch.float64) * 30 + 1,
        torch.rand(40, 1, generator=generator, dtype=torch.float64) * 3 - 1.5
    ], 1)
    sparse = AliTSMAssigner()._overlaps(priors, gts)
    dense = RBboxOverlaps2D()(priors.float(), gts.float()).double()
    assert (dense > 0).sum() > 100
    assert torch.allclose(sparse, dense, atol=1e-6)
    for i, g in [(0, 0), (37, 5), (120, 17)]:
        box = (*priors[i, :2].tolist(), 14.4, 14.4, 0.0)
        assert float(sparse[i, g]) == pytest.approx(
            shapely_iou(box, gts[g].tolist()), abs=1e-5)


def test_built_from_config_with_the_methods_defaults():
    assigner = build_assigner(dict(type='AliTSMAssigner'))
    assert (assigner.topk, assigner.ratio, assigner.alpha, assigner.beta,
            assigner.alpha_m, assigner.neg_thr) == ((3, 1), 0.9, 1, 7, 0.75,
                                                     0.8)


@pytest.mark.parametrize('kwargs,message', [
    (dict(priors=torch.zeros(3, 4)), 'priors'),
    (dict(gt_bboxes=torch.zeros(1, 4)), 'gt_bboxes'),
    (dict(cls_scores=torch.zeros(2, 2)), 'score rows'),
    (dict(gt_labels=torch.tensor([5])), 'labels must be in'),
    (dict(gt_bboxes_ignore=torch.zeros(1, 5)), 'ignored'),
])
def test_bad_inputs_are_refused(kwargs, message):
    args = dict(priors=torch.zeros(3, 5), cls_scores=torch.zeros(3, 2),
                gt_bboxes=torch.tensor([[1.0, 1, 2, 2, 0]]),
                gt_labels=torch.tensor([0]))
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        AliTSMAssigner().assign(**args)


def shrunk_iou(prior, gt, ratio=0.9) -> float:
    x, y, w, h, theta = prior
    return shapely_iou((x, y, w * ratio, h * ratio, theta), gt)


# A 6 x 3 px object A and, 212 px to its right, a confident 12 px object B
# of the same class: the priors within 12 px of B score 0.9, the one nearest
# to 16 px right of B (outside it, no overlap with it) 0.99, all others 0.5.
# A's nearby shrunk priors overlap it by at most 18 / 248 (a 15.75 px square
# over a 6 x 3 box), so m2 <= 0.125 + 0.75 * 0.073 = 0.18 near A, while that
# far prior has m2 = 0.25 * 0.99 = 0.2475 with no overlap at all.
FAR_A = (20.3, 20.6, 6.0, 3.0, 0.2)
FAR_B = (232.3, 20.6, 12.0, 12.0, 0.0)


def far_scene():
    priors = grid_priors(size=64, stride=4, side=17.5)
    centres = priors[:, :2]
    near_b = torch.linalg.norm(
        centres - torch.tensor(FAR_B[:2], dtype=torch.float64), dim=1) < 12
    logits = torch.zeros(priors.size(0), 1, dtype=torch.float64)
    logits[near_b] = math.log(0.9 / 0.1)
    far = int(torch.linalg.norm(centres - torch.tensor(
        [FAR_B[0] + 16, FAR_B[1]], dtype=torch.float64), dim=1).argmin())
    logits[far] = math.log(0.99 / 0.01)
    return priors, logits, far


@pytest.mark.parametrize('stage2', ['local', 'global'])
def test_stage2_of_a_tiny_object_next_to_a_far_confident_one(stage2):
    priors, logits, far = far_scene()
    stage1 = positives_of(assign(priors, [FAR_A, FAR_B], topk=(3, 0),
                                 logits=logits, labels=torch.tensor([0, 0])),
                          0)
    result = assign(priors, [FAR_A, FAR_B], topk=(3, 1), logits=logits,
                    labels=torch.tensor([0, 0]), stage2=stage2)
    added = positives_of(result, 0) - stage1
    assert len(added) == 1
    prior = int(added.pop())
    distance = float(torch.linalg.norm(
        priors[prior, :2] - torch.tensor(FAR_A[:2], dtype=torch.float64)))
    if stage2 == 'global':
        # The paper's literal rule: a prior next to B, which learns A's box.
        assert prior == far and distance > 200
        return
    # Local: a best m2 (equal scores near A: the best shrunk IoU, shapely
    # here; every shrunk prior holding all of A ties at 18 / 248) among A's
    # free priors whose shrunk box overlaps A.
    ious = np.array([0.0 if i in stage1 else shrunk_iou(
        priors[i].tolist(), FAR_A) for i in range(priors.size(0))])
    assert ious.max() == pytest.approx(18 / (15.75**2), rel=1e-6)
    assert ious[prior] == pytest.approx(ious.max(), rel=1e-6)
    assert result.gt_inds[far] != 1
    assert distance < 10


def test_local_stage2_needs_an_overlap_whatever_the_metric():
    """Without any free overlapping prior, local stage 2 adds nothing, also
    with the KLD similarity as overlap (never 0); with equal scores on a
    grid it is the literal rule."""
    # Priors 40 px apart, 16 px wide: only the one on the GT overlaps it.
    priors = grid_priors(size=6, stride=40)
    gt = (100.0, 100.0, 6.0, 3.0, 0.4)
    kld = dict(type='RBboxGaussianOverlaps2D', metric='kld')
    for overlap in (None, kld):
        local = assign(priors, [gt], topk=(1, 1), overlap_calculator=overlap)
        literal = assign(priors, [gt], topk=(1, 1), stage2='global',
                         overlap_calculator=overlap)
        assert positives_of(local, 0) == {2 * 6 + 2}
        assert len(positives_of(literal, 0)) == 2
    dense = grid_priors()
    assert torch.equal(assign(dense, [TINY_GT], topk=(3, 3)).gt_inds,
                       assign(dense, [TINY_GT], topk=(3, 3),
                              stage2='global').gt_inds)
    with pytest.raises(ValueError, match='stage2'):
        AliTSMAssigner(stage2='near')


def test_geometry_only_without_class_scores():
    """``alpha=0, alpha_m=1``: the scores play no part, so they may be left
    out (RFLA's hierarchical assignment with ``beta=1``)."""
    priors = grid_priors(size=16)
    gts = torch.tensor([TINY_GT, (96.2, 30.9, 10.0, 4.0, -1.1)],
                       dtype=torch.float64)
    assigner = AliTSMAssigner(alpha=0.0, beta=1.0, alpha_m=1.0)
    logits = torch.randn(priors.size(0), 2, dtype=torch.float64,
                         generator=torch.Generator().manual_seed(3))
    with_scores = assigner.assign(priors, logits, gts, torch.tensor([0, 1]))
    without = assigner.assign(priors, None, gts)
    assert torch.equal(with_scores.gt_inds, without.gt_inds)
    assert torch.equal(with_scores.max_overlaps, without.max_overlaps)
    assert without.labels is None
    assert (without.gt_inds > 0).sum() == 8
    with pytest.raises(ValueError, match='geometry only'):
        AliTSMAssigner().assign(priors, None, gts)

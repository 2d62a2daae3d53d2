"""Tests of rotated_tod.core.bbox.gaussian: closed forms, invariances,
independent matrix implementations, Monte-Carlo KLD, gradients, fuzzing."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rotated_tod.core.bbox import gaussian
from rotated_tod.core.bbox.gaussian import (
    DISTANCE_METRICS,
    SIMILARITY_METRICS,
    box2gaussian,
    gaussian_distance,
    gaussian_scale,
    gaussian_similarity,
    whitened_offset,
)


def random_boxes(n, seed, coord=100.0, side=(1.0, 40.0)):
    rng = np.random.default_rng(seed)
    boxes = np.stack([
        rng.uniform(0, coord, n), rng.uniform(0, coord, n),
        rng.uniform(*side, n), rng.uniform(*side, n),
        rng.uniform(-math.pi, math.pi, n)
    ], 1)
    return torch.from_numpy(boxes)


# ---------------------------------------------------------------------------
# An independent implementation with general matrices (numpy, float64).


def np_gaussian(box):
    cx, cy, w, h, a = box
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return np.array([cx, cy]), rot @ np.diag([w * w / 4, h * h / 4]) @ rot.T


def np_sqrtm(mat):
    """Symmetric PSD square root by eigen-decomposition."""
    values, vectors = np.linalg.eigh(mat)
    return vectors @ np.diag(np.sqrt(np.clip(values, 0, None))) @ vectors.T


def np_kl(mu1, s1, mu2, s2):
    inv2 = np.linalg.inv(s2)
    d = mu1 - mu2
    return 0.5 * (np.trace(inv2 @ s1) + d @ inv2 @ d - 2 +
                  math.log(np.linalg.det(s2) / np.linalg.det(s1)))


def np_metric(metric, box1, box2):
    mu1, s1 = np_gaussian(box1)
    mu2, s2 = np_gaussian(box2)
    d = mu1 - mu2
    if metric == 'gwd':
        root1 = np_sqrtm(s1)
        cross = np_sqrtm(root1 @ s2 @ root1)
        return d @ d + np.trace(s1) + np.trace(s2) - 2 * np.trace(cross)
    if metric == 'kld':
        return np_kl(mu1, s1, mu2, s2)
    if metric == 'kld_rev':
        return np_kl(mu2, s2, mu1, s1)
    if metric == 'jd':
        return 0.5 * (np_kl(mu1, s1, mu2, s2) + np_kl(mu2, s2, mu1, s1))
    if metric == 'bcd':
        mean = (s1 + s2) / 2
        return (d @ np.linalg.inv(mean) @ d / 8 + 0.5 * math.log(
            np.linalg.det(mean) / math.sqrt(np.linalg.det(s1) *
                                            np.linalg.det(s2))))
    if metric == 'kfiou':
        gain = s1 @ np.linalg.inv(s1 + s2)
        sx = s1 - gain @ s1

        def volume(s):
            return 4 * math.sqrt(np.linalg.det(s))

        return 3 * volume(sx) / (volume(s1) + volume(s2) - volume(sx))
    raise KeyError(metric)


@pytest.mark.parametrize('metric', DISTANCE_METRICS)
def test_distance_matches_matrix_implementation(metric):
    boxes1, boxes2 = random_boxes(6, 1), random_boxes(5, 2)
    got = gaussian_distance(boxes1, boxes2, metric).numpy()
    want = np.array([[np_metric(metric, b1, b2) for b2 in boxes2.numpy()]
                     for b1 in boxes1.numpy()])
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_kfiou_matches_matrix_implementation():
    boxes1, boxes2 = random_boxes(6, 3), random_boxes(5, 4)
    got = gaussian_similarity(boxes1, boxes2, 'kfiou').numpy()
    want = np.array([[np_metric('kfiou', b1, b2) for b2 in boxes2.numpy()]
                     for b1 in boxes1.numpy()])
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_box2gaussian_hand_cases():
    boxes = torch.tensor([[1.0, 2.0, 4.0, 2.0, 0.0],
                          [0.0, 0.0, 4.0, 2.0, math.pi / 2],
                          [0.0, 0.0, 4.0, 2.0, math.pi / 4]],
                         dtype=torch.float64)
    mu, sigma = box2gaussian(boxes)
    assert mu[0].tolist() == [1.0, 2.0]
    want = torch.tensor([[[4.0, 0.0], [0.0, 1.0]],
                         [[1.0, 0.0], [0.0, 4.0]],
                         [[2.5, 1.5], [1.5, 2.5]]], dtype=torch.float64)
    torch.testing.assert_close(sigma, want, atol=1e-12, rtol=0)


def test_kld_matches_monte_carlo():
    box1 = torch.tensor([3.0, -2.0, 12.0, 4.0, 0.4], dtype=torch.float64)
    box2 = torch.tensor([0.0, 1.0, 7.0, 9.0, -1.1], dtype=torch.float64)
    mu1, s1 = box2gaussian(box1)
    mu2, s2 = box2gaussian(box2)
    gen = torch.Generator().manual_seed(0)
    samples = mu1 + torch.randn(400_000, 2, generator=gen,
                                dtype=torch.float64) @ torch.linalg.cholesky(
                                    s1).T
    n1 = torch.distributions.MultivariateNormal(mu1, s1)
    n2 = torch.distributions.MultivariateNormal(mu2, s2)
    log_ratio = n1.log_prob(samples) - n2.log_prob(samples)
    estimate = log_ratio.mean()
    stderr = log_ratio.std() / math.sqrt(len(samples))
    exact = gaussian_distance(box1, box2, 'kld', aligned=True)
    assert abs(float(exact - estimate)) < 4 * float(stderr)
    reverse = gaussian_distance(box1, box2, 'kld_rev', aligned=True)
    assert abs(float(reverse - exact)) > 10 * float(stderr)  # asymmetric


@pytest.mark.parametrize('metric', DISTANCE_METRICS)
def test_identical_boxes_distance_zero(metric):
    boxes = random_boxes(8, 5)
    got = gaussian_distance(boxes, boxes, metric, aligned=True)
    torch.testing.assert_close(got, torch.zeros(8, dtype=torch.float64),
                               atol=1e-9, rtol=0)


@pytest.mark.parametrize('metric', SIMILARITY_METRICS)
def test_identical_boxes_similarity_one(metric):
    boxes = random_boxes(8, 6)
    got = gaussian_similarity(boxes, boxes, metric, aligned=True)
    torch.testing.assert_close(got, torch.ones(8, dtype=torch.float64),
                               atol=1e-6, rtol=0)


def test_pure_translation_closed_forms():
    box1 = torch.tensor([[0.0, 0.0, 4.0, 2.0, 0.0]], dtype=torch.float64)
    box2 = torch.tensor([[3.0, 1.0, 4.0, 2.0, 0.0]], dtype=torch.float64)
    # Sigma = diag(4, 1), delta = (-3, -1): delta^T Sigma^-1 delta = 9/4 + 1
    mahalanobis = 9 / 4 + 1
    want = dict(gwd=10.0, kld=mahalanobis / 2, kld_rev=mahalanobis / 2,
                jd=mahalanobis / 2, bcd=mahalanobis / 8)
    for metric, value in want.items():
        got = gaussian_distance(box1, box2, metric)
        assert got.shape == (1, 1)
        assert float(got) == pytest.approx(value, rel=1e-12), metric
    nwd = gaussian_similarity(box1, box2, 'nwd', C=2.0)
    assert float(nwd) == pytest.approx(math.exp(-math.sqrt(10) / 2))
    # KFIoU ignores the centres
    assert float(gaussian_similarity(box1, box2, 'kfiou')) == pytest.approx(1)


@given(st.lists(st.floats(0.5, 50.0), min_size=4, max_size=4),
       st.floats(-50, 50), st.floats(-50, 50),
       st.sampled_from([0.0, math.pi / 2, math.pi, -math.pi / 2]))
@settings(max_examples=40, deadline=None)
def test_axis_aligned_gwd(sides, dx, dy, theta):
    w1, h1, w2, h2 = sides
    box1 = torch.tensor([dx, dy, w1, h1, theta], dtype=torch.float64)
    box2 = torch.tensor([0.0, 0.0, w2, h2, theta], dtype=torch.float64)
    want = dx * dx + dy * dy + ((w1 - w2)**2 + (h1 - h2)**2) / 4
    got = float(gaussian_distance(box1, box2, 'gwd', aligned=True))
    assert got == pytest.approx(want, rel=1e-10, abs=1e-10)


def test_kld_axis_aligned_closed_form():
    box1 = torch.tensor([1.0, 2.0, 6.0, 2.0, 0.0], dtype=torch.float64)
    box2 = torch.tensor([0.0, 0.0, 4.0, 8.0, 0.0], dtype=torch.float64)
    # Sigma1 = diag(9, 1), Sigma2 = diag(4, 16), delta = (1, 2)
    want = 0.5 * (9 / 4 + 1 / 16 + 1 / 4 + 4 / 16 - 2 + math.log(64 / 9))
    got = float(gaussian_distance(box1, box2, 'kld', aligned=True))
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize('metric', SIMILARITY_METRICS)
def test_invariances(metric):
    boxes1, boxes2 = random_boxes(7, 7), random_boxes(6, 8)
    base = gaussian_similarity(boxes1, boxes2, metric)
    flipped = boxes1.clone()
    flipped[:, 4] += math.pi
    swapped = boxes2[:, [0, 1, 3, 2, 4]].clone()
    swapped[:, 4] += math.pi / 2
    torch.testing.assert_close(
        gaussian_similarity(flipped, boxes2, metric), base)
    torch.testing.assert_close(
        gaussian_similarity(boxes1, swapped, metric), base)
    # a rigid motion of the whole scene
    angle, shift = 0.7, torch.tensor([13.0, -4.0], dtype=torch.float64)
    rot = torch.tensor([[math.cos(angle), -math.sin(angle)],
                        [math.sin(angle), math.cos(angle)]],
                       dtype=torch.float64)

    def move(boxes):
        moved = boxes.clone()
        moved[:, :2] = boxes[:, :2] @ rot.T + shift
        moved[:, 4] += angle
        return moved

    torch.testing.assert_close(
        gaussian_similarity(move(boxes1), move(boxes2), metric), base)


@pytest.mark.parametrize('metric', DISTANCE_METRICS)
def test_scaling(metric):
    boxes1, boxes2 = random_boxes(5, 9), random_boxes(4, 10)
    factor = 3.5
    scaled1, scaled2 = boxes1.clone(), boxes2.clone()
    scaled1[:, :4] *= factor
    scaled2[:, :4] *= factor
    base = gaussian_distance(boxes1, boxes2, metric)
    want = base * factor**2 if metric == 'gwd' else base
    torch.testing.assert_close(gaussian_distance(scaled1, scaled2, metric),
                               want)


def test_symmetries_and_directions():
    boxes1, boxes2 = random_boxes(5, 11), random_boxes(4, 12)
    for metric in ('gwd', 'jd', 'bcd'):
        torch.testing.assert_close(
            gaussian_distance(boxes1, boxes2, metric),
            gaussian_distance(boxes2, boxes1, metric).T)
    torch.testing.assert_close(
        gaussian_distance(boxes1, boxes2, 'kld_rev'),
        gaussian_distance(boxes2, boxes1, 'kld').T)
    torch.testing.assert_close(
        gaussian_distance(boxes1, boxes2, 'jd'),
        0.5 * (gaussian_distance(boxes1, boxes2, 'kld') +
               gaussian_distance(boxes1, boxes2, 'kld_rev')))


def test_similarity_normalisations():
    boxes1, boxes2 = random_boxes(5, 13), random_boxes(4, 14)
    kld = gaussian_distance(boxes1, boxes2, 'kld')
    gwd = gaussian_distance(boxes1, boxes2, 'gwd')
    torch.testing.assert_close(gaussian_similarity(boxes1, boxes2, 'kld'),
                               1 / (1 + kld))
    torch.testing.assert_close(gaussian_similarity(boxes1, boxes2, 'gwd'),
                               1 / (1 + torch.log1p(gwd)))
    torch.testing.assert_close(
        gaussian_similarity(boxes1, boxes2, 'kld', fun='sqrt', tau=2),
        1 / (2 + kld.sqrt()))
    torch.testing.assert_close(gaussian_similarity(boxes1, boxes2, 'nwd'),
                               torch.exp(-gwd.sqrt() / 12.8))


def test_pairwise_chunks_batches_and_aligned(monkeypatch):
    boxes1, boxes2 = random_boxes(23, 15), random_boxes(7, 16)
    full = gaussian_distance(boxes1, boxes2, 'jd')
    monkeypatch.setattr(gaussian, 'CHUNK_PAIRS', 10)
    torch.testing.assert_close(gaussian_distance(boxes1, boxes2, 'jd'), full,
                               rtol=0, atol=0)
    batched = gaussian_distance(
        torch.stack([boxes1, boxes1.flip(0)]), boxes2[None], 'jd')
    assert batched.shape == (2, 23, 7)
    torch.testing.assert_close(batched[1], full.flip(0), rtol=0, atol=0)
    aligned = gaussian_distance(boxes1[:7], boxes2, 'jd', aligned=True)
    torch.testing.assert_close(aligned, full[:7].diagonal())
    one_to_many = gaussian_distance(boxes1[:1], boxes2, 'jd', aligned=True)
    torch.testing.assert_close(one_to_many, full[0])
    assert gaussian_distance(boxes1[:0], boxes2, 'gwd').shape == (0, 7)
    assert gaussian_distance(boxes1, boxes2[:0], 'gwd').shape == (23, 0)


def test_float32_matches_float64_and_large_coordinates():
    boxes1, boxes2 = random_boxes(30, 17), random_boxes(20, 18)
    boxes1[:, :2] += 1e5
    boxes2[:, :2] += 1e5
    boxes1, boxes2 = boxes1.float(), boxes2.float()
    for metric in SIMILARITY_METRICS:
        got = gaussian_similarity(boxes1, boxes2, metric)
        assert got.dtype == torch.float32
        want = gaussian_similarity(boxes1.double(), boxes2.double(), metric)
        torch.testing.assert_close(got.double(), want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('metric', SIMILARITY_METRICS)
def test_gradcheck(metric):
    boxes1 = random_boxes(3, 19).requires_grad_()
    boxes2 = random_boxes(2, 20).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda a, b: gaussian_similarity(a, b, metric), (boxes1, boxes2))
    assert torch.autograd.gradcheck(
        lambda a, b: gaussian_similarity(a, b, metric, aligned=True),
        (boxes1[:2].detach().requires_grad_(), boxes2))
    if metric in DISTANCE_METRICS:
        assert torch.autograd.gradcheck(
            lambda a, b: gaussian_distance(a, b, metric), (boxes1, boxes2))


def test_whitened_offset_and_scale():
    box1 = torch.tensor([3.0, 4.0, 2.0, 2.0, 0.0], dtype=torch.float64)
    box2 = torch.tensor([1.0, 1.0, 8.0, 2.0, math.pi / 2], dtype=torch.float64)
    # box2's w axis is +y: offset (2, 3) is 3 along (s = 4) and -2 across
    torch.testing.assert_close(whitened_offset(box1, box2),
                               torch.tensor([0.75, -2.0], dtype=torch.float64))
    mahalanobis = gaussian_distance(box1, box2, 'kld', aligned=True) - \
        gaussian_distance(box1 * torch.tensor([0, 0, 1, 1, 1.0]),
                          box2 * torch.tensor([0, 0, 1, 1, 1.0]), 'kld',
                          aligned=True)
    assert float(whitened_offset(box1, box2).square().sum() / 2) == \
        pytest.approx(float(mahalanobis))
    assert float(gaussian_scale(box1, box2)) == pytest.approx(
        (2 * 2 * 8 * 2)**0.25)


box_strategy = st.tuples(
    st.floats(-1e5, 1e5), st.floats(-1e5, 1e5),
    st.one_of(st.just(0.0), st.floats(0, 1e-3), st.floats(0, 2e4)),
    st.one_of(st.just(0.0), st.floats(0, 1e-3), st.floats(0, 2e4)),
    st.floats(-10, 10))


@given(st.lists(box_strategy, min_size=1, max_size=4),
       st.lists(box_strategy, min_size=1, max_size=4),
       st.sampled_from([torch.float32, torch.float64]))
@settings(max_examples=60, deadline=None)
def test_fuzz_finite_values_and_gradients(list1, list2, dtype):
    for metric in SIMILARITY_METRICS:
        boxes1 = torch.tensor(list1, dtype=dtype, requires_grad=True)
        boxes2 = torch.tensor(list2, dtype=dtype, requires_grad=True)
        sim = gaussian_similarity(boxes1, boxes2, metric)
        assert torch.isfinite(sim).all(), metric
        assert ((sim >= 0) & (sim <= 1 + 1e-6)).all(), metric
        sim.sum().backward()
        assert torch.isfinite(boxes1.grad).all(), metric
        assert torch.isfinite(boxes2.grad).all(), metric
        if metric in DISTANCE_METRICS:
            boxes1.grad = None
            dist = gaussian_distance(boxes1, boxes2, metric)
            assert torch.isfinite(dist).all() and (dist >= 0).all(), metric
            torch.log1p(dist).sum().backward()
            assert torch.isfinite(boxes1.grad).all(), metric


def test_thin_far_boxes_finite():
    """Aspect 1:1000, 1e5 px apart, a degenerate box, in float32."""
    boxes = torch.tensor([[0.0, 0.0, 1000.0, 1.0, 0.3],
                          [1e5, 1e5, 1.0, 1000.0, -0.3],
                          [5.0, 5.0, 0.0, 0.0, 0.0]], requires_grad=True)
    for metric in SIMILARITY_METRICS:
        out = gaussian_similarity(boxes, boxes, metric)
        out.sum().backward()
        assert torch.isfinite(out).all() and torch.isfinite(
            boxes.grad).all(), metric
        boxes.grad = None


def test_bad_input():
    boxes = random_boxes(3, 21)
    with pytest.raises(ValueError, match='metric'):
        gaussian_distance(boxes, boxes, 'iou')
    with pytest.raises(ValueError, match='metric'):
        gaussian_distance(boxes, boxes, 'nwd')
    with pytest.raises(ValueError, match=r'\(\.\.\., 5\)'):
        gaussian_distance(boxes[:, :4], boxes, 'gwd')
    with pytest.raises(TypeError, match='unknown'):
        gaussian_similarity(boxes, boxes, 'nwd', tau=1)
    with pytest.raises(ValueError, match='tau'):
        gaussian_similarity(boxes, boxes, 'kld', tau=0.5)
    with pytest.raises(ValueError, match='fun'):
        gaussian_similarity(boxes, boxes, 'kld', fun='exp')
    with pytest.raises(TypeError, match='floating'):
        gaussian_distance(boxes.long(), boxes, 'gwd')

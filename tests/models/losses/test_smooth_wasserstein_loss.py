"""Tests of the smooth Wasserstein loss (SWIN-TOD's SWL) in both spaces."""
import math

import pytest
import torch
from mmdet.models.losses import SmoothL1Loss
from mmrotate.models.builder import ROTATED_LOSSES

import rotated_tod  # noqa: F401  (registers the loss)
from rotated_tod.models.losses import SmoothWassersteinLoss

F64 = torch.float64


def huber(n, beta):
    return n * n / (2 * beta) if n < beta else n - beta / 2


def test_delta_space_value_is_huber_of_the_l2_norm():
    loss = SmoothWassersteinLoss(space='delta', beta=1.0, reduction='none')
    target = torch.zeros(3, 5, dtype=F64)
    pred = torch.tensor([[3.0, 4.0, 0, 0, 0], [0.3, 0, 0.4, 0, 0],
                         [0, 0, 0, 0, 0]], dtype=F64)
    # norms 5, 0.5, 0 -> 5 - 1/2, 0.25 / 2, 0
    torch.testing.assert_close(loss(pred, target),
                               torch.tensor([4.5, 0.125, 0.0], dtype=F64))


def test_delta_space_is_smooth_l1_for_one_dimensional_deltas():
    # For D = 1 the L2 norm is |d|: SWL must equal mmdet's SmoothL1 with
    # the same beta, weights and avg_factor (the drop-in contract).
    gen = torch.Generator().manual_seed(0)
    pred = torch.randn(50, 1, generator=gen, dtype=F64) * 2
    target = torch.randn(50, 1, generator=gen, dtype=F64)
    weight = (torch.rand(50, 1, generator=gen, dtype=F64) > 0.3).to(F64)
    for beta in (1.0 / 9.0, 1.0):
        ours = SmoothWassersteinLoss(beta=beta, loss_weight=2.0)(
            pred, target, weight, avg_factor=17.0)
        theirs = SmoothL1Loss(beta=beta, loss_weight=2.0)(
            pred, target, weight, avg_factor=17.0)
        torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize('space', ['delta', 'gaussian'])
def test_huber_joint_continuous_with_unit_slope(space):
    beta = 0.5
    loss = SmoothWassersteinLoss(space=space, beta=beta, reduction='none')
    anchors = torch.tensor([[0.0, 0.0, 4.0, 4.0, 0.0]], dtype=F64)
    target = torch.tensor([[0.0, 0.0, 4.0, 2.0, 0.3]], dtype=F64)
    # A translation by t moves the Gaussian by t (W2 = t), the delta vector
    # by t too (here the raw boxes are the "deltas"); n = t / s with s = 4
    # for the Gaussian space.
    scale = 4.0 if space == 'gaussian' else 1.0
    values, slopes = [], []
    for n in (beta - 1e-7, beta + 1e-7):
        shift = torch.tensor([[n * scale, 0, 0, 0, 0]], dtype=F64,
                             requires_grad=True)
        value = loss(target + shift, target, anchors=anchors)
        value.sum().backward()
        values.append(float(value))
        slopes.append(float(shift.grad[0, 0]) * scale)
        assert float(value) == pytest.approx(huber(n, beta), rel=1e-9)
    assert values[0] == pytest.approx(values[1], abs=1e-6)
    assert slopes[0] == pytest.approx(1.0, abs=1e-5)
    assert slopes[1] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize('space', ['delta', 'gaussian'])
def test_gradcheck_and_finite_gradient_at_the_target(space):
    loss = SmoothWassersteinLoss(space=space, beta=0.3)
    gen = torch.Generator().manual_seed(1)
    target = torch.cat([
        torch.rand(6, 2, generator=gen, dtype=F64) * 50,
        torch.rand(6, 2, generator=gen, dtype=F64) * 20 + 4,
        torch.rand(6, 1, generator=gen, dtype=F64) - 0.5
    ], 1)
    anchors = target.clone()
    anchors[:, 4] = 0
    # Mix rows on both sides of the joint.
    offset = torch.randn(6, 5, generator=gen, dtype=F64) * torch.tensor(
        [[0.5, 0.5, 0.5, 0.5, 0.05]], dtype=F64)
    offset[::2] *= 10
    pred = (target + offset).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda p: loss(p, target, anchors=anchors), (pred, ))
    at_target = target.clone().requires_grad_()
    value = loss(at_target, target, anchors=anchors)
    value.backward()
    assert float(value) == 0.0
    assert torch.isfinite(at_target.grad).all()
    assert float(at_target.grad.abs().max()) < 1e-6


def test_gaussian_space_value_and_scale_free_beta():
    loss = SmoothWassersteinLoss(space='gaussian', beta=1.0,
                                 reduction='none')
    target = torch.tensor([[10.0, 10.0, 8.0, 4.0, 0.3]], dtype=F64)
    anchor = torch.tensor([[11.0, 9.0, 8.0, 2.0, 0.0]], dtype=F64)  # s = 4
    for shift in (2.0, 12.0):
        pred = target.clone()
        pred[0, 0] += shift * math.cos(0.7)
        pred[0, 1] += shift * math.sin(0.7)
        assert float(loss(pred, target, anchors=anchor)) == pytest.approx(
            huber(shift / 4, 1.0), rel=1e-9)
        # Scaling the whole scene (boxes and anchor) leaves it unchanged.
        scaled = [b * torch.tensor([[3, 3, 3, 3, 1]], dtype=F64)
                  for b in (pred, target, anchor)]
        assert float(loss(*scaled[:2], anchors=scaled[2])) == pytest.approx(
            huber(shift / 4, 1.0), rel=1e-9)


def test_gaussian_space_rotation_conventions():
    loss = SmoothWassersteinLoss(space='gaussian', beta=0.2,
                                 reduction='none')
    pred = torch.tensor([[5.0, 6.0, 20.0, 5.0, 0.4]], dtype=F64)
    target = torch.tensor([[4.0, 7.0, 18.0, 6.0, 0.1]], dtype=F64)
    anchor = torch.tensor([[4.0, 6.0, 16.0, 8.0, 0.0]], dtype=F64)
    value = loss(pred, target, anchors=anchor)
    flipped = pred.clone()
    flipped[0, 4] += math.pi
    swapped = pred[:, [0, 1, 3, 2, 4]].clone()
    swapped[0, 4] += math.pi / 2
    torch.testing.assert_close(loss(flipped, target, anchors=anchor), value)
    torch.testing.assert_close(loss(swapped, target, anchors=anchor), value)


def test_spaces_agree_for_axis_aligned_boxes_up_to_normalisation():
    # For axis-aligned boxes GWD = |dc|^2 + (dw^2 + dh^2) / 4, so the
    # Gaussian-space norm is the delta-space norm of the linear encoding
    # ((x - xa) / s, (y - ya) / s, w / (2 s), h / (2 s), 0), s = sqrt(wa ha).
    gen = torch.Generator().manual_seed(2)
    n = 20
    anchors = torch.cat([
        torch.rand(n, 2, generator=gen, dtype=F64) * 100,
        torch.rand(n, 2, generator=gen, dtype=F64) * 30 + 2,
        torch.zeros(n, 1, dtype=F64)
    ], 1)
    target = anchors + torch.randn(n, 5, generator=gen, dtype=F64) * 2
    pred = anchors + torch.randn(n, 5, generator=gen, dtype=F64) * 2
    target[:, 4] = pred[:, 4] = 0
    target[:, 2:4] = target[:, 2:4].abs() + 1
    pred[:, 2:4] = pred[:, 2:4].abs() + 1
    scale = (anchors[:, 2] * anchors[:, 3]).sqrt()[:, None]

    def linear(boxes):
        return torch.cat([(boxes[:, :2] - anchors[:, :2]) / scale,
                          boxes[:, 2:4] / (2 * scale)], 1)

    for beta in (0.05, 0.3, 3.0):
        gaussian = SmoothWassersteinLoss('gaussian', beta, 'none')(
            pred, target, anchors=anchors)
        delta = SmoothWassersteinLoss('delta', beta, 'none')(
            linear(pred), linear(target))
        torch.testing.assert_close(gaussian, delta, rtol=1e-10, atol=1e-12)


def test_weights_reduction_and_zero_weights():
    loss = ROTATED_LOSSES.build(
        dict(type='SmoothWassersteinLoss', beta=0.5, loss_weight=3.0))
    gen = torch.Generator().manual_seed(3)
    pred = torch.randn(6, 6, generator=gen).requires_grad_()
    target = torch.randn(6, 6, generator=gen)
    per_row = loss(pred, target, reduction_override='none')
    assert per_row.shape == (6, )
    weight = torch.tensor([1.0, 0.0, 2.0, 1.0, 0.5, 0.0])
    total = loss(pred, target, weight)
    torch.testing.assert_close(total, (per_row * weight).mean())
    torch.testing.assert_close(
        loss(pred, target, weight[:, None].expand(6, 6).contiguous()), total)
    torch.testing.assert_close(loss(pred, target, weight, avg_factor=2.0),
                               (per_row * weight).sum() / 2.0)
    zero = loss(pred, target, torch.zeros(6))
    assert float(zero) == 0.0 and zero.requires_grad


def test_bad_arguments():
    with pytest.raises(ValueError, match='space'):
        SmoothWassersteinLoss(space='pixel')
    with pytest.raises(ValueError, match='beta'):
        SmoothWassersteinLoss(beta=0.0)
    boxes = torch.rand(3, 5)
    with pytest.raises(ValueError, match='anchors'):
        SmoothWassersteinLoss(space='gaussian')(boxes, boxes)
    with pytest.raises(ValueError, match=r'\(N, 5\)'):
        SmoothWassersteinLoss(space='gaussian')(
            torch.rand(3, 6), torch.rand(3, 6), anchors=torch.rand(3, 6))
    assert SmoothWassersteinLoss(space='gaussian').needs_anchors
    assert not SmoothWassersteinLoss().needs_anchors

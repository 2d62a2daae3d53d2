"""EllipseMaskBranch: re-weighting, targets, losses and guidance maps."""
import pytest
import torch

from rotated_tod.core.bbox.ellipse_mask import ellipse_mask_targets
from rotated_tod.models.plugins import EllipseMaskBranch

GTS = [torch.tensor([[40.0, 30.0, 30.0, 12.0, 0.5], [10.0, 50.0, 3.0, 2.0,
                                                     0.0]]),
       torch.zeros(0, 5)]


def branch(**kwargs):
    torch.manual_seed(0)
    module = EllipseMaskBranch(8, strides=(8, 16), feat_channels=4, **kwargs)
    module.init_weights()
    return module


def test_reweighting_is_x_times_one_plus_mask():
    feats = [torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)]
    module = branch()
    logits = module(feats)
    assert [tuple(lg.shape) for lg in logits] == [(2, 1, 8, 8), (2, 1, 4, 4)]
    out = module.reweight(feats, logits)
    for x, lg, y in zip(feats, logits, out):
        torch.testing.assert_close(y, x * (1 + torch.sigmoid(lg)))


def test_targets_are_the_ellipses_and_losses_are_finite():
    module = branch(loss_dice=dict(type='DiceLoss', loss_weight=1.0))
    logits = [torch.zeros(2, 1, 8, 8, requires_grad=True),
              torch.zeros(2, 1, 4, 4, requires_grad=True)]
    targets = module.get_targets(logits, GTS)
    torch.testing.assert_close(targets[0][0, 0],
                               ellipse_mask_targets(GTS[0], (8, 8), 8))
    torch.testing.assert_close(targets[1][0, 0],
                               ellipse_mask_targets(GTS[0], (4, 4), 16))
    assert targets[0][1].sum() == 0
    losses = module.loss(logits, GTS)
    assert set(losses) == {'loss_mask', 'loss_mask_dice'}
    # Zero logits: BCE is ln 2 at every pixel.
    assert losses['loss_mask'].item() == pytest.approx(0.6931, abs=1e-4)
    sum(losses.values()).backward()
    assert logits[0].grad.abs().sum() > 0


def test_guidance_takes_the_nearest_stride_and_resizes():
    module = branch()
    logits = [torch.randn(1, 1, 8, 8), torch.randn(1, 1, 4, 4)]
    maps = module.guidance(logits, [4, 8, 16, 32],
                           [(16, 16), (8, 8), (4, 4), (2, 2)])
    assert [tuple(m.shape) for m in maps] == [(1, 16, 16), (1, 8, 8),
                                              (1, 4, 4), (1, 2, 2)]
    torch.testing.assert_close(maps[1], logits[0].sigmoid()[:, 0])
    torch.testing.assert_close(maps[2], logits[1].sigmoid()[:, 0])
    # Coarser: 2 x 2 max pooling of the stride-16 mask; finer: bilinear.
    torch.testing.assert_close(
        maps[3], torch.nn.functional.max_pool2d(logits[1].sigmoid(), 2)[:, 0])
    torch.testing.assert_close(
        maps[0], torch.nn.functional.interpolate(
            logits[0].sigmoid(), size=(16, 16), mode='bilinear')[:, 0])
    assert not maps[0].requires_grad
    with pytest.raises(ValueError):
        EllipseMaskBranch(8, target='oval')

"""Receptive-field priors: TRF values against RFLA's table, against
hand-derived values, and against the gradient support of real ResNets."""
import pytest
import torch
from mmdet.models.backbones import ResNet
from mmrotate.core.anchor.builder import build_prior_generator

import rotated_tod  # noqa: F401  (registers the generator)
from rotated_tod.core.anchor import (
    ReceptiveFieldPriorGenerator,
    backbone_receptive_fields,
    level_receptive_fields,
)

R50 = dict(type='ResNet', depth=50)
P2_TO_P7 = [4, 8, 16, 32, 64, 128]


def test_resnet50_matches_the_rfla_table():
    # RFLA (C. Xu et al., ECCV 2022): about 35, 91, 267, 427, 555, 811 px
    # for P2..P7.
    assert level_receptive_fields(P2_TO_P7, R50, extra_conv_jump='output') \
        == [35, 91, 267, 427, 555, 811]


def test_resnet50_exact_walk_of_the_extra_levels():
    fields = level_receptive_fields(P2_TO_P7, R50)
    assert fields[:4] == [35, 91, 267, 427]
    # P6 = 3x3/2 conv on C5 (input jump 32), P7 = 3x3/2 conv on P6 (jump 64).
    assert fields[4:] == [427 + 2 * 32, 427 + 2 * 32 + 2 * 64]


def test_hand_derived_basic_block_values():
    # Stem: 7x7/2 -> 7, max-pool 3x3/2 (jump 2) -> 11. ResNet-18 stages
    # have 2 blocks of two 3x3 convs: C2 at jump 4: 11 + 4 * 2 * 4 = 43;
    # C3: first conv at jump 4, then three at jump 8: 43 + 8 + 3 * 16 = 99;
    # C4: 99 + 16 + 3 * 32 = 211; C5: 211 + 32 + 3 * 64 = 435.
    assert backbone_receptive_fields(dict(type='ResNet', depth=18)) == [
        (4, 43), (8, 99), (16, 211), (32, 435)]
    # C4 of ResNet-50/101: the first block's 3x3/2 conv at jump 8, then one
    # 3x3 conv at jump 16 in each of the other 5 (ResNet-50) or 22 blocks.
    assert backbone_receptive_fields(R50)[2] == (16, 91 + 16 + 5 * 32)
    r101 = backbone_receptive_fields(dict(type='ResNet', depth=101))
    assert r101[2] == (16, 91 + 16 + 22 * 32)


def gradient_extent(model: torch.nn.Module, width: int) -> list:
    """Per stage, the width in pixels of the input columns that one central
    unit of the stage output depends on (its gradient support). Fields are
    separable, so a 32-pixel-high strip is enough to measure widths."""
    img = torch.ones(1, 3, 32, width, dtype=torch.float64,
                     requires_grad=True)
    extents = []
    for out in model(img):
        h, w = out.shape[-2:]
        grad, = torch.autograd.grad(out[0, :, h // 2, w // 2].sum(), img,
                                    retain_graph=True)
        cols = (grad[0].abs().sum(dim=(0, 1)) > 0).nonzero().flatten()
        assert cols.min() > 0 and cols.max() < width - 1, 'field clipped'
        extents.append(int(cols.max() - cols.min() + 1))
    return extents


def positive_resnet(**kwargs) -> torch.nn.Module:
    """A thin ResNet whose every unit is positive on a positive input, so
    gradients reach the whole receptive field; the max-pool (whose gradient
    only reaches the arg-max) is replaced by an average pool of the same
    geometry."""
    model = ResNet(base_channels=4, norm_eval=True, **kwargs).double()
    model.maxpool = torch.nn.AvgPool2d(3, 2, 1)
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            fan_in = module.weight[0].numel()
            torch.nn.init.constant_(module.weight, 1.0 / fan_in)
    model.eval()
    return model


@pytest.mark.parametrize('cfg', [
    dict(depth=18),
    dict(depth=50),
    dict(depth=50, style='caffe'),
    dict(depth=18, deep_stem=True),
    dict(depth=18, strides=(1, 2, 2, 1), dilations=(1, 1, 1, 2)),
])
def test_walk_equals_the_gradient_support_of_the_real_network(cfg):
    expected = backbone_receptive_fields(dict(type='ResNet', **cfg))
    assert gradient_extent(positive_resnet(**cfg), 640) == [
        field for _, field in expected]


def test_generator_points_and_priors():
    generator = build_prior_generator(
        dict(type='ReceptiveFieldPriorGenerator', strides=[4, 8, 16, 32, 64],
             backbone=R50, fraction=0.5))
    assert isinstance(generator, ReceptiveFieldPriorGenerator)
    assert generator.prior_sizes == [17.5, 45.5, 133.5, 213.5, 245.5]
    sizes = [(8, 6), (4, 3), (2, 2), (1, 1), (1, 1)]
    points = generator.grid_priors(sizes, dtype=torch.float64, device='cpu')
    priors = generator.grid_rf_priors(sizes, dtype=torch.float64)
    for level, (pts, boxes) in enumerate(zip(points, priors)):
        h, w = sizes[level]
        assert boxes.shape == (h * w, 5) and boxes.dtype == torch.float64
        assert torch.equal(boxes[:, :2], pts)
        assert torch.all(boxes[:, 2:4] == generator.prior_sizes[level])
        assert torch.all(boxes[:, 4] == 0)
    # Row-major cells; the point of (row, col) at stride 8 is
    # ((col + .5) 8, (row + .5) 8): index 5 of a 3-wide map is (1, 2).
    assert priors[1][5].tolist()[:2] == [2.5 * 8, 1.5 * 8]


@pytest.mark.parametrize('kwargs,message', [
    (dict(backbone=None), 'needs the backbone'),
    (dict(backbone=dict(type='ResNet', depth=42)), 'no ResNet of depth 42'),
    (dict(backbone=dict(type='SwinTransformer')), 'ResNet'),
    (dict(backbone=R50, strides=[4, 48]), 'stride 48'),
    (dict(backbone=R50, fraction=0), 'fraction'),
    (dict(backbone=R50, extra_conv_jump='middle'), 'extra_conv_jump'),
])
def test_bad_configs_are_refused(kwargs, message):
    kwargs = dict(dict(strides=[4, 8]), **kwargs)
    with pytest.raises(ValueError, match=message):
        ReceptiveFieldPriorGenerator(**kwargs)

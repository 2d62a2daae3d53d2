"""FA2M (FeatureAlignFPN): the alignment step in closed form, the pyramid's
levels, and the neck in place of FPN in Rotated RetinaNet."""
import math
import os

import pytest
import torch
import torch.nn.functional as F

from rotated_tod.models.necks import FeatureAlignFPN
from rotated_tod.models.necks.feature_align_fpn import (
    FeatureAlign,
    shift_sample,
)
from tests.conftest import REPO
from tests.model_utils import (
    build_model,
    inference,
    load_config,
    make_batch,
    num_classes_of,
    train_step,
)


def test_zero_offsets_are_bilinear_upsampling_plus_addition():
    torch.manual_seed(0)
    align = FeatureAlign(3).double()
    torch.nn.init.zeros_(align.pointwise_conv.weight)
    low = torch.randn(2, 3, 9, 13, dtype=torch.float64)
    high = torch.randn(2, 3, 5, 7, dtype=torch.float64)
    expected = low + F.interpolate(high, size=(9, 13), mode='bilinear',
                                   align_corners=True)
    # The same bilinear weights computed two ways (linspace grid vs
    # interpolate's index scaling): equal up to float64 rounding.
    assert torch.allclose(align(low, high), expected, rtol=0, atol=1e-12)


def test_constant_offset_moves_the_sample_by_its_normalised_amount():
    # A coarse map linear in (x, y) is reproduced exactly by bilinear
    # sampling inside the map, so the sampled value tells the position.
    coarse_h, coarse_w, fine_h, fine_w = 6, 5, 11, 9
    ys, xs = torch.meshgrid(torch.arange(coarse_h, dtype=torch.float64),
                            torch.arange(coarse_w, dtype=torch.float64),
                            indexing='ij')
    high = (3 * xs + 7 * ys)[None, None]
    off_x, off_y = 1.3, -0.8
    offset = torch.tensor([off_x, off_y], dtype=torch.float64).view(
        1, 2, 1, 1).expand(1, 2, fine_h, fine_w)
    # Through FA itself, with its offset predictor replaced by the constant
    # field: FA(low, high) - low is the shifted sample of the coarse map.
    align = FeatureAlign(1).double()
    align.offset = lambda low, high: offset
    low = torch.randn(1, 1, fine_h, fine_w, dtype=torch.float64)
    out = (align(low, high) - low)[0, 0]
    # Fine pixel j sits at coarse j (w-1)/(W-1); an offset o of fine pixels
    # normalised by W moves it by o (w-1) / (2W) coarse pixels.
    fine_y, fine_x = torch.meshgrid(
        torch.arange(fine_h, dtype=torch.float64),
        torch.arange(fine_w, dtype=torch.float64), indexing='ij')
    src_x = fine_x * (coarse_w - 1) / (fine_w - 1) + off_x * (
        coarse_w - 1) / (2 * fine_w)
    src_y = fine_y * (coarse_h - 1) / (fine_h - 1) + off_y * (
        coarse_h - 1) / (2 * fine_h)
    inside = (src_x >= 0) & (src_x <= coarse_w - 1) & (src_y >= 0) & (
        src_y <= coarse_h - 1)
    assert inside.sum() > 50
    expected = 3 * src_x + 7 * src_y
    assert torch.allclose(out[inside], expected[inside], atol=1e-12)


def test_offset_of_one_coarse_pixel_shifts_the_upsampled_map():
    # w = 5 -> W = 9: one coarse pixel is two fine pixels and the offset
    # that moves one coarse pixel is 2 W / (w - 1) = 4.5 fine pixels.
    torch.manual_seed(1)
    high = torch.randn(1, 2, 5, 5, dtype=torch.float64)
    up = F.interpolate(high, size=(9, 9), mode='bilinear',
                       align_corners=True)
    shift_x = torch.tensor([4.5, 0.], dtype=torch.float64).view(
        1, 2, 1, 1).expand(1, 2, 9, 9)
    out = shift_sample(high, shift_x)
    assert torch.allclose(out[..., :7], up[..., 2:], atol=1e-12)
    # Past the border grid_sample reads zeros.
    assert torch.allclose(out[..., 8], torch.zeros_like(out[..., 8]))
    shift_y = shift_x.flip(1)
    out = shift_sample(high, shift_y)
    assert torch.allclose(out[..., :7, :], up[..., 2:, :], atol=1e-12)


def test_offsets_are_learned_from_both_maps():
    torch.manual_seed(2)
    align = FeatureAlign(4)
    low = torch.randn(1, 4, 8, 8, requires_grad=True)
    high = torch.randn(1, 4, 4, 4, requires_grad=True)
    align(low, high).square().sum().backward()
    for conv in (align.depthwise_conv, align.pointwise_conv):
        assert conv.bias is None
        assert conv.weight.grad.abs().sum() > 0
    assert align.pointwise_conv.out_channels == 2
    assert align.depthwise_conv.groups == 8


def _inputs(sizes=(32, 16, 8, 4), channels=(8, 16, 32, 64)):
    torch.manual_seed(3)
    return [torch.randn(2, c, s, s) for c, s in zip(channels, sizes)]


@pytest.mark.parametrize(
    'start_level, num_outs, extra, sides',
    [(1, 3, False, [16, 8, 4]),
     (0, 5, 'on_output', [32, 16, 8, 4, 2]),
     (0, 5, False, [32, 16, 8, 4, 2]),
     (1, 5, 'on_input', [16, 8, 4, 2, 1])])
def test_levels_and_extra_levels(start_level, num_outs, extra, sides):
    neck = FeatureAlignFPN([8, 16, 32, 64], 32, num_outs,
                           start_level=start_level, add_extra_convs=extra,
                           relu_before_extra_convs=True)
    neck.init_weights()
    outs = neck(_inputs())
    assert [o.shape[-1] for o in outs] == sides
    assert all(o.shape[:2] == (2, 32) for o in outs)
    assert len(neck.aligns) == 4 - start_level - 1
    # Laterals: 1x1 conv + GN, no activation; outputs: plain 3x3 convs.
    lateral = neck.lateral_convs[0]
    assert lateral.with_norm and not lateral.with_activation
    assert not neck.fpn_convs[0].with_norm
    assert not neck.fpn_convs[0].with_activation
    if not extra and num_outs > 4 - start_level:
        assert torch.equal(outs[-1], F.max_pool2d(outs[-2], 1, stride=2))


def test_top_down_pathway_aligns_each_level_onto_the_next_finer():
    neck = FeatureAlignFPN([8, 16, 32, 64], 32, 3, start_level=1)
    neck.init_weights()
    inputs = _inputs()
    laterals = [conv(inputs[i + 1]) for i, conv in
                enumerate(neck.lateral_convs)]
    m5 = laterals[2]
    m4 = neck.aligns[1](laterals[1], m5)
    m3 = neck.aligns[0](laterals[0], m4)
    expected = [conv(m) for conv, m in zip(neck.fpn_convs, (m3, m4, m5))]
    for out, exp in zip(neck(inputs), expected):
        assert torch.equal(out, exp)


def test_replaces_fpn_in_rotated_retinanet():
    cfg = load_config(os.path.join(
        REPO, 'configs', 'baselines',
        'rotated_retinanet_r50_fpn_1x_dota_le90.py'))
    cfg.model.backbone.update(depth=18, base_channels=16, frozen_stages=-1,
                              norm_eval=False)
    neck = cfg.model.neck
    cfg.model.neck = dict(
        type='FeatureAlignFPN', in_channels=[16, 32, 64, 128],
        out_channels=32, start_level=neck.start_level,
        add_extra_convs=neck.add_extra_convs, num_outs=neck.num_outs)
    cfg.model.bbox_head.update(in_channels=32, feat_channels=32,
                               stacked_convs=1)
    model = build_model(cfg)
    assert isinstance(model.neck, FeatureAlignFPN)
    batch = make_batch(num_classes_of(cfg), num_imgs=1, size=(64, 64))
    losses = train_step(model, batch)
    assert all(math.isfinite(v) for v in losses.values()), losses
    align_grad = model.neck.aligns[0].pointwise_conv.weight.grad
    assert align_grad is not None and align_grad.abs().sum() > 0
    dets = inference(model, batch)[0]
    assert len(dets) == num_classes_of(cfg)

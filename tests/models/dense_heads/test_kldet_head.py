"""KLDetHead / KLDet: decoding, centerness, priors, batch independence of
the assignment, and a CPU train step + test of every configs/kldet config."""
import math
import os

import numpy as np
import pytest
import torch

from rotated_tod.models.dense_heads.kldet_head import KLDetHead
from rotated_tod.models.plugins.task_level_attention import TaskLevelAttention
from tests.model_utils import (
    build_model,
    inference,
    load_config,
    make_batch,
    num_classes_of,
    train_step,
)

CONFIG_DIR = os.path.join(
    os.path.dirname(__file__), '..', '..', '..', 'configs', 'kldet')
CONFIGS = [
    'kldet_r50_fpn_1x_dota_le90.py',
    'kldet_r50_fpn_6x_hrsc_le90.py',
    'kldet_r50_fpn_1x_synthetic_le90.py',
    'kldet_r50_fpn_1x_dota_le90_no_tla.py',
    'kldet_r50_fpn_1x_dota_le90_no_alitsm.py',
]


def tiny_config(name: str):
    """The config with a quarter-width ResNet-18 and a 32-channel neck and
    head (the tests are about mechanics)."""
    cfg = load_config(os.path.join(CONFIG_DIR, name))
    cfg.model.backbone.update(depth=18, base_channels=16)
    cfg.model.neck.update(in_channels=[16, 32, 64, 128], out_channels=32)
    head = cfg.model.bbox_head
    head.in_channels = head.feat_channels = 32
    head.stacked_convs = 1
    head.norm_cfg = dict(type='GN', num_groups=8, requires_grad=True)
    return cfg


def tiny_head(**kwargs) -> KLDetHead:
    torch.manual_seed(0)
    args = dict(num_classes=3, in_channels=16, feat_channels=16,
                stacked_convs=1,
                norm_cfg=dict(type='GN', num_groups=4, requires_grad=True),
                backbone=dict(type='ResNet', depth=18),
                task_attention=dict(type='TaskLevelAttention', ratio=4),
                loss_bbox=dict(type='KLDLoss'),
                train_cfg=dict(assigner=dict(type='AliTSMAssigner')))
    args.update(kwargs)
    head = KLDetHead(**args)
    head.init_weights()
    return head


def feats_for(head: KLDetHead, num_imgs: int, size: int = 64):
    torch.manual_seed(1)
    return [
        torch.randn(num_imgs, head.in_channels, size // s, size // s)
        for s in head.strides
    ]


@pytest.mark.parametrize('name', CONFIGS)
def test_config_trains_and_tests_on_cpu(name):
    cfg = tiny_config(name)
    model = build_model(cfg)
    num_classes = num_classes_of(cfg)
    batch = make_batch(num_classes, num_imgs=2, size=(64, 64), seed=3)
    losses = train_step(model, batch)
    assert {'loss_cls', 'loss_bbox', 'loss_centerness'} <= set(losses)
    assert all(math.isfinite(v) for v in losses.values())
    assert losses['loss_bbox'] > 0  # there are positives
    grads = [p.grad for p in model.bbox_head.parameters()
             if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    results = inference(model, batch)
    assert len(results) == 2
    for per_class in results:
        assert len(per_class) == num_classes
        assert all(r.ndim == 2 and r.shape[1] == 6 for r in per_class)


def test_ablation_configs_switch_the_parts_off():
    full = build_model(tiny_config(CONFIGS[0])).bbox_head
    no_tla = build_model(tiny_config(CONFIGS[3])).bbox_head
    no_alitsm = build_model(tiny_config(CONFIGS[4])).bbox_head
    assert isinstance(full.cls_attention, TaskLevelAttention)
    assert full.assigner is not None
    assert no_tla.cls_attention is None and no_tla.assigner is not None
    assert isinstance(no_alitsm.cls_attention, TaskLevelAttention)
    assert no_alitsm.assigner is None


def test_stage2_rule_of_the_configs():
    """Local stage 2 by default; the leaderboard's variant is the paper's
    literal (global) rule."""
    local = build_model(tiny_config(CONFIGS[2])).bbox_head.assigner
    literal = build_model(tiny_config(
        'kldet_r50_fpn_1x_synthetic_le90_global_stage2.py')).bbox_head.assigner
    assert local.stage2 == 'local'
    assert literal.stage2 == 'global'


def test_gaussian_centerness_closed_form():
    theta = 0.5
    box = [10.0, 20.0, 8.0, 4.0, theta]
    c, s = math.cos(theta), math.sin(theta)
    along, across = np.array([c, s]), np.array([-s, c])
    centre = np.array(box[:2])
    points = torch.tensor(np.stack([
        centre, centre + 4 * along, centre + 4 * across,
        centre + 2 * along + 2 * across
    ]))
    boxes = torch.tensor([box] * 4, dtype=torch.float64)
    # delta^T S^-1 delta = (along / 4)^2 + (across / 2)^2.
    expected = np.exp(-0.5 * np.array([0.0, 1.0, 4.0, 0.25 + 1.0]))
    assert KLDetHead.gaussian_centerness(points, boxes).tolist() == \
        pytest.approx(expected.tolist(), rel=1e-9)


def test_zero_regression_decodes_to_the_receptive_field_priors():
    head = tiny_head()
    with torch.no_grad():
        for conv in (head.conv_reg, head.conv_angle):
            conv.weight.zero_()
            conv.bias.zero_()
    feats = feats_for(head, 1)
    _, distances, angles, _ = head(feats)
    sizes = [f.shape[-2:] for f in feats]
    priors = head.prior_generator.grid_rf_priors(sizes)
    for dist, angle, prior in zip(distances, angles, priors):
        flat = torch.cat([dist, angle], 1)[0].permute(1, 2, 0).reshape(-1, 5)
        boxes = head.bbox_coder.decode(prior[:, :2], flat)
        assert torch.allclose(boxes, prior, atol=1e-4)


def test_task_attention_is_shared_by_all_levels():
    head = tiny_head()
    calls = []
    head.cls_attention.register_forward_hook(
        lambda module, inputs, output: calls.append(inputs[0].shape))
    head(feats_for(head, 1))
    assert len(calls) == len(head.strides)


def test_batch_assignment_equals_each_image_alone():
    head = tiny_head()
    feats = feats_for(head, 2)
    cls_scores = head(feats)[0]
    sizes = [f.shape[-2:] for f in feats]
    points = head.prior_generator.grid_priors(sizes, device='cpu')
    flat_cls = torch.cat([
        c.permute(0, 2, 3, 1).reshape(2, -1, head.num_classes)
        for c in cls_scores
    ], 1).detach()
    gts = [
        torch.tensor([[20.5, 30.2, 6.0, 2.0, 0.4], [50.0, 10.0, 12.0, 5.0,
                                                    -1.0]]),
        torch.tensor([[33.3, 33.3, 3.0, 1.5, 1.2]]),
    ]
    labels = [torch.tensor([0, 2]), torch.tensor([1])]
    batch_labels, batch_weights, batch_boxes = head.get_kldet_targets(
        points, flat_cls, gts, labels, sizes)
    for index in range(2):
        alone_labels, alone_weights, alone_boxes = head.get_kldet_targets(
            points, flat_cls[index:index + 1], gts[index:index + 1],
            labels[index:index + 1], sizes)
        assert torch.equal(batch_labels[index], alone_labels[0])
        assert torch.equal(batch_weights[index], alone_weights[0])
        assert torch.equal(batch_boxes[index], alone_boxes[0])
        # Ali-TSM's 3 + 1 positives per GT; the tiny GTs get positives
        # outside their boxes, which the signed distances can represent.
        positive = alone_labels[0] < head.num_classes
        assert int(positive.sum()) == 4 * len(gts[index])


def test_unsupported_options_are_refused():
    with pytest.raises(ValueError, match='norm_on_bbox'):
        tiny_head(norm_on_bbox=True)
    with pytest.raises(ValueError, match='strides'):
        tiny_head(prior_generator=dict(type='ReceptiveFieldPriorGenerator',
                                       strides=[8, 16, 32, 64, 128]))


def test_ignored_priors_get_no_classification_loss():
    """Ali-TSM's ignore band (best m1 >= neg_thr, not positive): zero weight,
    so no classification gradient reaches those locations, while every other
    location, positive or negative, gets one. ``alpha=0, beta=1,
    neg_thr=0.5``: the priors within KL(prior || GT) <= 1 of a GT are
    ignored (there are several around each GT)."""
    assigner = dict(type='AliTSMAssigner', alpha=0.0, beta=1.0, neg_thr=0.5)
    head = tiny_head(train_cfg=dict(assigner=assigner))
    feats = feats_for(head, 1)
    outs = head(feats)
    cls_scores = [c.detach().requires_grad_() for c in outs[0]]
    # GTs the size of the P2 prior, centred on prior locations.
    side = float(head.prior_generator.prior_sizes[0])
    gts = [torch.tensor([[22.0, 26.0, side, side, 0.0],
                         [42.0, 10.0, side, 0.5 * side, 0.7]])]
    labels = [torch.tensor([0, 2])]
    metas = [dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3))]
    losses = head.loss(cls_scores, *outs[1:], gts, labels, metas)
    losses['loss_cls'].backward()
    grad = torch.cat([g.grad.permute(0, 2, 3, 1).reshape(-1, head.num_classes)
                      for g in cls_scores]).abs().sum(-1)
    sizes = [f.shape[-2:] for f in feats]
    priors = torch.cat(head.prior_generator.grid_rf_priors(sizes))
    flat = torch.cat([c.detach().permute(0, 2, 3, 1).reshape(
        -1, head.num_classes) for c in cls_scores])
    gt_inds = head.assigner.assign(priors, flat, gts[0], labels[0]).gt_inds
    ignored = gt_inds < 0
    assert ignored.sum() >= 4 and (gt_inds > 0).sum() == 8
    assert torch.all(grad[ignored] == 0)
    assert torch.all(grad[~ignored] > 0)

"""AFMNet and the rotated task-aligned detector built from configs/afmnet:
what each config builds, the stride-4 level, the losses of every part, the
fusion of the two heads at test, and the progress of both heads."""
import glob
import os

import pytest
import torch

from rotated_tod.models.detectors import AFMNet, RotatedTOOD
from rotated_tod.models.detectors import afmnet as afmnet_module
from tests.conftest import REPO
from tests.model_utils import (
    build_model,
    inference,
    load_config,
    make_batch,
    train_step,
)

CONFIGS = sorted(glob.glob(os.path.join(REPO, 'configs', 'afmnet', '*.py')))
SYNTHETIC = os.path.join(REPO, 'configs', 'afmnet',
                         'afmnet_r50_fpn_1x_synthetic_le90.py')


def small_config(path):
    """Quarter-width ResNet-18, 32-channel FPN and heads (mechanics only)."""
    cfg = load_config(path)
    model = cfg.model
    model.backbone.update(depth=18, base_channels=16, frozen_stages=-1,
                          norm_eval=False)
    model.neck.update(in_channels=[16, 32, 64, 128], out_channels=32)
    for key in ('bbox_head', 'small_head'):
        head = model.get(key)
        if head is None:
            continue
        head.update(in_channels=32, feat_channels=32, stacked_convs=2)
        if head.get('mining'):
            head.mining.update(num_heads=4)
        if head.get('interaction'):
            head.interaction.update(embed_dims=32, num_heads=4, num_rois=20)
    if model.get('mask_branch'):
        model.mask_branch.update(feat_channels=8)
    return cfg


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_builds_its_parts(path):
    name = os.path.basename(path)
    cfg = small_config(path)
    model = build_model(cfg)
    raw = load_config(path).model
    assert 'CARAFE' not in raw.neck.type
    head = model.bbox_head
    assert head.strides == [8, 16, 32, 64, 128]
    num_classes = 1 if 'hrsc' in name else 4 if 'synthetic' in name else 15
    assert head.num_classes == num_classes
    if name.startswith('rotated_tood'):
        assert type(model) is RotatedTOOD
        assert (head.assigner.topk, head.assigner.beta) == (13, 6.0)
        assert head.initial_assigner.topk == 9
        assert head.mining is None and head.interaction is None
        return
    assert isinstance(model, AFMNet)
    assert (head.assigner.topk, head.assigner.alpha,
            head.assigner.beta) == (3, 1.0, 7.0)
    assert head.initial_assigner.topk == 4
    assert (model.small_head is None) == name.endswith('no_stride4.py')
    assert (model.mask_branch is None) == name.endswith('no_masks.py')
    for part in (head, model.small_head):
        if part is None:
            continue
        assert (part.mining is None) == name.endswith('no_mining.py')
        assert (part.interaction is None) == name.endswith(
            'no_interaction.py')
        if part.mining is not None:
            assert part.mining.topk == 13
    if model.small_head is not None:
        assert model.small_head.strides == [4]
        assert model.small_head.num_classes == num_classes
        assert model.small_head.test_cfg.nms_pre == 3000
    if model.mask_branch is not None:
        assert model.mask_branch.strides == [8, 16]
    if 'synthetic' in name:
        assert (head.initial_epoch, head.initial_iter) == (0, 100)
    else:
        assert head.initial_epoch == (12 if 'hrsc' in name else 4)


@pytest.fixture(scope='module')
def afmnet():
    model = build_model(small_config(SYNTHETIC))
    for head in model.heads():
        head.test_cfg.update(score_thr=0.0)
    return model


def test_stride4_head_gets_the_p2_level(afmnet):
    batch = make_batch(4, num_imgs=1, size=(64, 96))
    main, small, logits, main_guidance, small_guidance = afmnet.features(
        batch['img'])
    assert [tuple(f.shape[-2:]) for f in small] == [(16, 24)]
    assert tuple(main[0].shape[-2:]) == (8, 12)
    assert [tuple(lg.shape[-2:]) for lg in logits] == [(8, 12), (4, 6)]
    assert tuple(small_guidance[0].shape) == (1, 16, 24)
    assert len(main_guidance) == 5


def test_train_step_has_every_loss_and_sets_both_heads(afmnet):
    afmnet.set_train_progress(7, 300)
    assert [(h.epoch, h.iter) for h in afmnet.heads()] == [(7, 300)] * 2
    losses = train_step(afmnet, make_batch(4, num_imgs=2, size=(64, 64)))
    assert set(losses) == {'loss_cls', 'loss_bbox', 'loss_cls_s4',
                           'loss_bbox_s4', 'loss_mask', 'loss'}
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    grads = [p.grad for p in afmnet.mask_branch.parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in grads)


def test_test_fuses_both_heads(afmnet, monkeypatch):
    calls = []
    original = afmnet_module.fuse_head_detections

    def spy(detections, nms_cfg, max_num):
        calls.append([len(d) for d, _ in detections])
        return original(detections, nms_cfg, max_num)

    monkeypatch.setattr(afmnet_module, 'fuse_head_detections', spy)
    results = inference(afmnet, make_batch(4, num_imgs=2, size=(64, 64)))
    assert len(calls) == 2 and all(len(c) == 2 and min(c) > 0 for c in calls)
    for per_class in results:
        assert len(per_class) == 4
        assert all(a.shape[1] == 6 for a in per_class)
        total = sum(len(a) for a in per_class)
        assert 0 < total <= afmnet.test_cfg.fusion.max_per_img


def test_two_heads_need_fusion_settings():
    cfg = small_config(SYNTHETIC)
    cfg.model.test_cfg.fusion = None
    with pytest.raises(ValueError, match='fusion'):
        build_model(cfg)

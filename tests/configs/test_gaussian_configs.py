"""The configs/gaussian configs load, build and train one step on the CPU
(backbone reduced to a quarter-width ResNet-18 and a thin head: the test is about the
mechanics), and the NWD-NMS config runs inference through Gaussian NMS."""
import glob
import math
import os

import pytest
import torch

from rotated_tod.core.post_processing import nms as nms_module
from tests.model_utils import (
    build_model,
    inference,
    load_config,
    make_batch,
    num_classes_of,
    train_step,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CONFIGS = sorted(glob.glob(os.path.join(ROOT, 'configs', 'gaussian', '*.py')))
LOSS_OF_METHOD = dict(gwd='GWDLoss', kld='KLDLoss', nwd='NWDLoss',
                      swl='SmoothWassersteinLoss')


def small_config(path):
    cfg = load_config(path)
    cfg.model.backbone.update(depth=18, base_channels=16, frozen_stages=-1,
                              norm_eval=False)
    cfg.model.neck.update(in_channels=[16, 32, 64, 128], out_channels=16)
    cfg.model.bbox_head.update(in_channels=16, feat_channels=16,
                               stacked_convs=1)
    return cfg


def test_one_config_per_method_and_dataset():
    names = {os.path.basename(p) for p in CONFIGS}
    expected = {f'rotated_retinanet_{method}_r50_fpn_{dataset}_le90.py'
                for method in LOSS_OF_METHOD
                for dataset in ('1x_dota', '6x_hrsc', '1x_synthetic')}
    # and the leaderboard's SWL at the baseline's gradient scale
    variant = 'rotated_retinanet_swl_x2.24_r50_fpn_1x_synthetic_le90.py'
    assert names == expected | {variant}
    weight = load_config(os.path.join(ROOT, 'configs', 'gaussian', variant)
                         ).model.bbox_head.loss_bbox.loss_weight
    assert weight == pytest.approx(math.sqrt(5), abs=0.005)


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_trains_one_step(path):
    cfg = small_config(path)
    method = os.path.basename(path).split('_')[2]
    head = cfg.model.bbox_head
    # SWL works on encoded deltas (its delta form), the others on boxes.
    assert head.reg_decoded_bbox is (method != 'swl')
    assert head.loss_bbox.type == LOSS_OF_METHOD[method]
    calculator = cfg.model.train_cfg.assigner.iou_calculator
    # GWD and KLD are losses (as published: assignment stays rotated IoU);
    # NWD is the one that assigns by a Gaussian metric.
    if method == 'nwd':
        assert calculator.type == 'RBboxGaussianOverlaps2D'
    else:
        assert calculator.type == 'SparseRBboxOverlaps2D'
    model = build_model(cfg)
    batch = make_batch(num_classes_of(cfg), num_imgs=1, size=(64, 64))
    losses = train_step(model, batch)
    assert all(math.isfinite(v) for v in losses.values()), losses
    assert losses['loss_bbox'] > 0
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_nwd_nms_config_inference_uses_gaussian_nms(monkeypatch):
    path = os.path.join(ROOT, 'configs', 'gaussian',
                        'rotated_retinanet_nwd_r50_fpn_1x_synthetic_le90.py')
    cfg = small_config(path)
    assert cfg.model.test_cfg.nms.type == 'gaussian'
    cfg.model.test_cfg.update(score_thr=0.0, nms_pre=50, max_per_img=20)
    model = build_model(cfg)
    calls = []
    original = nms_module.gaussian_nms

    def spy(*args, **kwargs):
        calls.append(kwargs.get('metric'))
        return original(*args, **kwargs)

    monkeypatch.setattr(nms_module, 'gaussian_nms', spy)
    batch = make_batch(num_classes_of(cfg), num_imgs=1, size=(64, 64))
    results = inference(model, batch)
    assert calls and set(calls) == {'nwd'}
    dets = results[0]
    assert len(dets) == num_classes_of(cfg)
    assert sum(len(d) for d in dets) > 0
    assert all(d.shape[1] == 6 for d in dets)

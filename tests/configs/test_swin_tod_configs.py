"""The configs/swin_tod configs (SWIN-TOD on Oriented R-CNN and RoI
Transformer, three ablations) and the new two-stage baselines: what each one
builds; every config trains one step and detects on the CPU, and trains one
iteration and tests through tools/train.py and tools/test.py on a tiny
dataset of its kind (quarter-width ResNet-18, thin heads, 128 px images: the
test is about the mechanics). The SWIN-TOD checkpoints give the same
detections in a fresh process (the graph layers are saved)."""
import glob
import math
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.configs.tiny_config import TINY_CONFIG_HEAD
from tests.conftest import REPO
from tests.model_utils import (
    build_model,
    inference,
    load_config,
    make_batch,
    num_classes_of,
    train_step,
)
from tests.tools.cli import run_tool

SWIN_TOD = sorted(glob.glob(os.path.join(REPO, 'configs', 'swin_tod', '*.py')))
BASELINES = sorted(
    glob.glob(os.path.join(REPO, 'configs', 'baselines', 'oriented_rcnn_*.py'))
    + glob.glob(os.path.join(REPO, 'configs', 'baselines', 'roi_trans_*.py')))
CONFIGS = SWIN_TOD + BASELINES
DATASETS = ('1x_dota', '1x_dota_ms', '6x_hrsc', '1x_synthetic')
NUM_CLASSES = dict(dota=15, hrsc=1, synthetic=4)
# name prefix -> (INEN, receptive-field RPN, SWL)
PARTS = {
    'swin_tod': (True, True, True),
    'inen': (True, False, False),
    'rfrpn': (False, True, False),
    'swl': (False, False, True),
    'oriented_rcnn': (False, False, False),
    'roi_trans': (False, False, False),
}


def parts_of(path):
    name = os.path.basename(path)
    return next(v for k, v in PARTS.items() if name.startswith(k + '_'))


def dataset_of(path):
    return next(d for d in ('hrsc', 'synthetic', 'dota') if f'_{d}' in path)


def test_one_config_per_detector_dataset_and_ablation():
    names = {os.path.basename(p) for p in CONFIGS}
    for detector in ('oriented_rcnn', 'roi_trans'):
        for dataset in DATASETS:
            assert f'{detector}_r50_fpn_{dataset}_le90.py' in names
            assert f'swin_tod_{detector}_r50_fpn_{dataset}_le90.py' in names
    for ablation in ('inen', 'rfrpn', 'swl'):
        for dataset in ('1x_dota', '1x_synthetic'):
            assert (f'{ablation}_oriented_rcnn_r50_fpn_{dataset}_le90.py'
                    in names)
    assert len(names) == 22


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_builds_its_method(path):
    cfg = load_config(path)
    model = cfg.model
    inen, rfrpn, swl = parts_of(path)
    roi_trans = 'roi_trans' in os.path.basename(path)
    detector = 'RoITransformer' if roi_trans else 'OrientedRCNN'
    assert model.type == ('ReceptiveField' + detector if rfrpn else detector)
    rpn = model.rpn_head
    if rfrpn:
        assert rpn.type == ('ReceptiveFieldRPNHead' if roi_trans else
                            'ReceptiveFieldOrientedRPNHead')
        assert rpn.anchor_generator == dict(
            type='ReceptiveFieldAnchorGenerator',
            strides=[4, 8, 16, 32, 64], ratios=[0.5, 1.0, 2.0], fraction=0.5)
        assert model.train_cfg.rpn.assigner == dict(
            type='RFLAHierarchicalAssigner', topk=(3, 1), ratio=0.9,
            neg_thr=0.8)
    else:
        assert rpn.type == ('RotatedRPNHead' if roi_trans else
                            'OrientedRPNHead')
        assert model.train_cfg.rpn.assigner.type == 'MaxIoUAssigner'
    heads = model.roi_head.bbox_head
    heads = heads if isinstance(heads, list) else [heads]
    assert len(heads) == (2 if roi_trans else 1)
    assert model.roi_head.type == (
        ('INENRoITransRoIHead' if roi_trans else 'INENOrientedRoIHead')
        if inen else ('RoITransRoIHead' if roi_trans else
                      'OrientedStandardRoIHead'))
    if swl:
        assert rpn.loss_bbox == dict(type='SmoothWassersteinLoss',
                                     space='delta', beta=1.0 / 9.0,
                                     loss_weight=1.0)
    else:
        assert rpn.loss_bbox.type == 'SmoothL1Loss'
    for head in heads:
        assert head.num_classes == NUM_CLASSES[dataset_of(path)]
        assert head.type == ('INENBBoxHead' if inen else
                             'RotatedShared2FCBBoxHead')
        if swl:
            assert head.loss_bbox == dict(type='SmoothWassersteinLoss',
                                          space='delta', beta=1.0,
                                          loss_weight=1.0)
        else:
            assert head.loss_bbox.type == 'SmoothL1Loss'


def test_inen_settings_of_both_detectors_agree():
    from mmrotate.models import build_detector
    built = []
    for name in ('swin_tod_oriented_rcnn', 'swin_tod_roi_trans'):
        cfg = load_config(os.path.join(
            REPO, 'configs', 'swin_tod', f'{name}_r50_fpn_1x_dota_le90.py'))
        cfg.model.backbone.depth = 18
        cfg.model.neck.in_channels = [64, 128, 256, 512]
        model = build_detector(cfg.model)
        heads = model.roi_head.bbox_head
        built += list(heads) if isinstance(heads, torch.nn.ModuleList) \
            else [heads]
    settings = {(h.graph_direction, h.test_mix, h.aug_test_mix,
                 h.max_test_nodes, h.cross_image, h.detach_edges,
                 h.graph_dropout.p, h.loss_cls.loss_weight,
                 h.loss_graph.loss_weight, h.graph_conv1.out_channels)
                for h in built}
    assert settings == {('official', (0.9, 0.1), (0.7, 0.3), 512, False,
                         True, 0.5, 0.7, 0.3, 256)}
    # The RF-RPN anchors follow the detector's own backbone (ResNet-18 here).
    assert model.rpn_head.prior_generator.base_sizes[0] == 43 / 2


def small_model(cfg):
    """Quarter-width ResNet-18, thin neck and heads, few proposals."""
    model = cfg.model
    model.backbone.update(depth=18, base_channels=16, frozen_stages=-1,
                          norm_eval=False)
    model.neck.update(in_channels=[16, 32, 64, 128], out_channels=16)
    model.rpn_head.update(in_channels=16, feat_channels=16)
    roi_head = model.roi_head
    for key, update in (('bbox_roi_extractor', dict(out_channels=16)),
                        ('bbox_head', dict(in_channels=16,
                                           fc_out_channels=32))):
        parts = roi_head[key]
        for part in (parts if isinstance(parts, list) else [parts]):
            part.update(update)
            if part.get('type') == 'INENBBoxHead':
                part.graph_channels = 16
    for proposals in (model.train_cfg.rpn_proposal, model.test_cfg.rpn):
        proposals.update(nms_pre=300, max_per_img=200)
    return cfg


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_trains_and_detects(path):
    cfg = small_model(load_config(path))
    model = build_model(cfg)
    batch = make_batch(num_classes_of(cfg), num_imgs=2, size=(64, 64))
    losses = train_step(model, batch)
    assert all(math.isfinite(v) for v in losses.values()), losses
    graph_losses = [k for k in losses if 'loss_graph_cls' in k]
    inen = parts_of(path)[0]
    stages = 2 if 'roi_trans' in os.path.basename(path) else 1
    assert len(graph_losses) == (stages if inen else 0), losses
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    results = inference(model, batch)
    assert len(results) == 2
    assert all(len(r) == num_classes_of(cfg) for r in results)
    assert all(d.shape[1] == 6 for r in results for d in r)


SMALL = TINY_CONFIG_HEAD + '''
model = dict(
    backbone=dict(depth=18, base_channels=16, frozen_stages=-1,
                  norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=16),
    rpn_head=dict(in_channels=16, feat_channels=16),
    train_cfg=dict(rpn_proposal=dict(nms_pre=300, max_per_img=200)),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=200)))
data = dict(
    samples_per_gpu=1, workers_per_gpu=0,
    train=dict(ann_file={train_ann!r}, img_prefix={train_img!r},
               pipeline=train_pipeline),
    val=dict(ann_file={test_ann!r}, img_prefix={test_img!r},
             pipeline=test_pipeline, {extra}),
    test=dict(ann_file={test_ann!r}, img_prefix={test_img!r},
              pipeline=test_pipeline, {extra}))
runner = dict(_delete_=True, type='IterBasedRunner', max_iters=1)
checkpoint_config = dict(interval=1, by_epoch=False)
lr_config = dict(warmup_iters=1)
log_config = dict(interval=1)
'''


def head_options(path):
    """--cfg-options thinning the RoI heads (lists need indexed keys)."""
    inen = parts_of(path)[0]
    stages = [0, 1] if 'roi_trans' in os.path.basename(path) else [None]
    options = []
    for stage in stages:
        at = '' if stage is None else f'.{stage}'
        options += [
            f'model.roi_head.bbox_roi_extractor{at}.out_channels=16',
            f'model.roi_head.bbox_head{at}.in_channels=16',
            f'model.roi_head.bbox_head{at}.fc_out_channels=32'
        ]
        if inen:
            options.append(f'model.roi_head.bbox_head{at}.graph_channels=16')
    return options


def fresh_process_results(config, checkpoint, out, options):
    """tools/test.py in a new Python process (nothing shared with this
    one); returns its raw results."""
    env = dict(os.environ, PYTHONPATH=REPO)
    subprocess.run(
        [sys.executable, os.path.join(REPO, 'tools', 'test.py'), str(config),
         str(checkpoint), '--out', str(out), '--cfg-options'] + options,
        check=True, cwd=REPO, env=env, capture_output=True)
    with open(out, 'rb') as f:
        return pickle.load(f)


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_trains_and_tests_through_the_tools(path, data_roots,
                                                   tmp_path):
    dataset = dataset_of(path)
    (train_ann, train_img), (test_ann, test_img), extra = data_roots[dataset]
    config = tmp_path / 'small.py'
    config.write_text(SMALL.format(
        base=path, train_ann=train_ann, train_img=train_img,
        test_ann=test_ann, test_img=test_img, extra=extra))
    options = head_options(path)
    work = tmp_path / 'work'
    run_tool('train.py', [config, '--work-dir', work, '--no-validate',
                          '--cfg-options'] + options)
    checkpoint = work / 'iter_1.pth'
    assert checkpoint.exists(), os.listdir(work)
    here = tmp_path / 'here.pkl'
    run_tool('test.py', [config, checkpoint, '--eval', 'mAP', '--out', here,
                         '--cfg-options'] + options)
    name = os.path.basename(path)
    if not (name.startswith('swin_tod_') and 'synthetic' in name):
        return
    state = torch.load(checkpoint, map_location='cpu',
                       weights_only=False)['state_dict']
    graph = [k for k in state if '.graph_conv' in k]
    assert len(graph) == (8 if 'roi_trans' in name else 4), graph
    with open(here, 'rb') as f:
        ours = pickle.load(f)
    theirs = fresh_process_results(config, checkpoint, tmp_path / 'new.pkl',
                                   options)
    assert sum(len(d) for image in ours for d in image) > 0
    # Same code, same weights, same thread count: bit-identical detections.
    for image_ours, image_theirs in zip(ours, theirs):
        for dets_ours, dets_theirs in zip(image_ours, image_theirs):
            np.testing.assert_array_equal(dets_ours, dets_theirs)

"""Every detector family mmrotate 0.3.4 ships trains and tests on CPU once
rotated_tod is imported (compat fixes and CPU ops).

One config per method folder of the installed package's ``.mim/configs``
(more where a folder holds other detector types or heads), with its
backbone shrunk (ResNet-18 of 8 base channels, ReResNet-18 of 16 for ReDet)
and every 256-channel layer narrowed to 64, on one 128 px image with three
rotated boxes: ``forward_train``, ``backward`` and ``simple_test``. The
point-set detectors and ReDet also train one iteration and test through
``tools/train.py`` and ``tools/test.py``.
"""
import os
import shutil
from typing import Iterator

import mmcv
import mmrotate
import pytest
import torch
from mmcv import Config, ConfigDict

from tests.model_utils import build_model, make_batch, strip_pretrained
from tests.tools.cli import run_tool

CONFIGS = os.path.join(os.path.dirname(mmrotate.__file__), '.mim', 'configs')

SHIPPED = [
    'cfa/cfa_r50_fpn_1x_dota_le135.py',
    # mmcls' ConvNeXt backbone is replaced like every other backbone.
    'convnext/rotated_retinanet_obb_kld_stable_convnext_adamw_fpn_1x_dota_le90.py',
    'csl/rotated_retinanet_obb_csl_gaussian_r50_fpn_fp16_1x_dota_le90.py',
    'gliding_vertex/gliding_vertex_r50_fpn_1x_dota_le90.py',
    'gwd/rotated_retinanet_obb_gwd_r50_fpn_1x_dota_le90.py',
    'kfiou/r3det_kfiou_ln_r50_fpn_1x_dota_oc.py',
    'kfiou/s2anet_kfiou_ln_r50_fpn_1x_dota_le135.py',
    'kfiou/roi_trans_kfiou_ln_r50_fpn_1x_dota_le90.py',
    'kld/r3det_kld_r50_fpn_1x_dota_oc.py',
    'kld/rotated_retinanet_obb_kld_stable_r50_fpn_1x_dota_le90.py',
    'oriented_rcnn/oriented_rcnn_r50_fpn_1x_dota_le90.py',
    'oriented_reppoints/oriented_reppoints_r50_fpn_1x_dota_le135.py',
    'r3det/r3det_r50_fpn_1x_dota_oc.py',
    'redet/redet_re50_refpn_1x_dota_le90.py',
    'roi_trans/roi_trans_r50_fpn_1x_dota_le90.py',
    'rotated_atss/rotated_atss_obb_r50_fpn_1x_dota_le90.py',
    'rotated_atss/r3det_atss_r50_fpn_1x_dota_oc.py',
    'rotated_faster_rcnn/rotated_faster_rcnn_r50_fpn_1x_dota_le90.py',
    'rotated_fcos/rotated_fcos_r50_fpn_1x_dota_le90.py',
    'rotated_fcos/rotated_fcos_csl_gaussian_r50_fpn_1x_dota_le90.py',
    'rotated_reppoints/rotated_reppoints_r50_fpn_1x_dota_oc.py',
    'rotated_retinanet/rotated_retinanet_obb_r50_fpn_1x_dota_le90.py',
    's2anet/s2anet_r50_fpn_1x_dota_le135.py',
    'sasm_reppoints/sasm_reppoints_r50_fpn_1x_dota_oc.py',
]

# Replaces every 256-channel layer; GN(32) needs two channels per group on
# the 1 x 1 maps of P7.
WIDTH = 64
FC_WIDTH = 64  # replaces the 1024-unit RoI head layers
_WIDE = {
    'in_channels': 256, 'out_channels': 256, 'feat_channels': 256,
    'point_feat_channels': 256, 'channels': 256, 'fc_out_channels': 1024
}
# Fewer proposals and RoI samples: a 128 px image has few objects.
_CAPS = {'nms_pre': 200, 'max_per_img': 100, 'max_num': 100}
# mmrotate's ATSS-like assigners take ``topk`` priors per level without
# checking that a level has that many (P7 of 128 px has one).
_TOPK_ASSIGNERS = ('ATSSObbAssigner', 'SASAssigner', 'ATSSKldAssigner')

#: Shipped configs that cannot be built on any device, and why.
UNBUILDABLE = {
    'g_reppoints/g_reppoints_r50_fpn_1x_dota_le135.py':
    'KLDRepPointsHead is not in the models registry',
}


def _dicts(node) -> Iterator[dict]:
    """Every dict of a nested config."""
    if isinstance(node, dict):
        yield node
        node = list(node.values())
    if isinstance(node, (list, tuple)):
        for value in node:
            yield from _dicts(value)


def shrunk_config(relpath: str) -> Config:
    """The shipped config with a small backbone and narrow layers."""
    cfg = Config.fromfile(os.path.join(CONFIGS, relpath),
                          import_custom_modules=False)
    strip_pretrained(cfg.model)
    model = cfg.model
    if model.backbone.type == 'ReResNet':
        model.backbone = ConfigDict(
            type='ReResNet', depth=18, stem_channels=16, base_channels=16,
            out_indices=(0, 1, 2, 3), frozen_stages=-1, init_cfg=None)
        model.neck.in_channels = [16, 32, 64, 128]
    else:
        model.backbone = ConfigDict(
            type='ResNet', depth=18, base_channels=8, num_stages=4,
            out_indices=(0, 1, 2, 3), frozen_stages=-1, norm_eval=False,
            init_cfg=None)
        model.neck.in_channels = [8, 16, 32, 64]
    model.neck.out_channels = WIDTH
    for node in _dicts([v for k, v in model.items() if k != 'neck']):
        for key, value in node.items():
            if key in _WIDE and _WIDE[key] == value:
                node[key] = FC_WIDTH if value == 1024 else WIDTH
    for node in _dicts([model.get('train_cfg'), model.get('test_cfg')]):
        if node.get('type') in _TOPK_ASSIGNERS:
            node['topk'] = 1
        for key, value in node.items():
            if key in _CAPS and isinstance(value, int):
                node[key] = min(value, _CAPS[key])
        if isinstance(node.get('sampler'), dict):
            node['sampler']['num'] = min(node['sampler'].get('num', 64), 64)
    return cfg


def num_classes(cfg: Config) -> int:
    heads = [cfg.model.get(k) for k in ('bbox_head', 'fam_head', 'roi_head')]
    head = next(h for h in heads if h is not None)
    bbox_head = head.get('bbox_head', head)
    if isinstance(bbox_head, (list, tuple)):
        bbox_head = bbox_head[0]
    return bbox_head.num_classes


def one_image_batch(num_classes: int) -> dict:
    batch = make_batch(num_classes, num_imgs=1, size=(128, 128),
                       boxes_per_img=3, seed=3)
    # angles in (0, pi / 2): valid in the oc, le90 and le135 conventions
    batch['gt_bboxes'][0][:, 4] = torch.tensor([0.2, 0.7, 1.3])
    return batch


@pytest.mark.parametrize('relpath', SHIPPED)
def test_shipped_detector_runs_on_cpu(relpath):
    cfg = shrunk_config(relpath)
    classes = num_classes(cfg)
    model = build_model(cfg)
    batch = one_image_batch(classes)
    model.train()
    losses = model.forward_train(**batch)
    total, parsed = model._parse_losses(losses)
    assert torch.isfinite(total), parsed
    total.backward()
    grads = [p.grad for p in model.backbone.parameters()
             if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    model.eval()
    with torch.no_grad():
        results = model.simple_test(batch['img'], batch['img_metas'],
                                    rescale=True)
    assert len(results) == 1 and len(results[0]) == classes
    assert all(r.shape[1] == 6 for r in results[0])


@pytest.mark.parametrize('relpath,reason', sorted(UNBUILDABLE.items()))
def test_unbuildable_configs_still_are(relpath, reason):
    """G-RepPoints' config ships with mmrotate 0.3.4, its head does not:
    this fails (and the config joins SHIPPED) once mmrotate adds it."""
    with pytest.raises(KeyError, match=reason):
        build_model(shrunk_config(relpath))


def test_every_shipped_detector_type_is_covered():
    covered = {Config.fromfile(os.path.join(CONFIGS, p),
                               import_custom_modules=False).model.type
               for p in SHIPPED}
    folders = {p.split('/')[0] for p in [*SHIPPED, *UNBUILDABLE]}
    shipped = {d for d in os.listdir(CONFIGS)
               if d != '_base_' and os.path.isdir(os.path.join(CONFIGS, d))}
    assert folders == shipped
    assert covered == {
        'RotatedRepPoints', 'RotatedRetinaNet', 'GlidingVertex', 'R3Det',
        'S2ANet', 'RoITransformer', 'OrientedRCNN', 'ReDet',
        'RotatedFasterRCNN', 'RotatedFCOS'
    }


SAMPLE = os.path.join(os.path.dirname(__file__), 'data', 'mmrotate_samples')
THROUGH_TOOLS = [
    'oriented_reppoints/oriented_reppoints_r50_fpn_1x_dota_le135.py',
    'cfa/cfa_r50_fpn_1x_dota_le135.py',
    'sasm_reppoints/sasm_reppoints_r50_fpn_1x_dota_oc.py',
    'redet/redet_re50_refpn_1x_dota_le90.py',
]


def tools_config(relpath: str, tmp_path) -> str:
    """The shrunk config on mmrotate's DOTA sample patch, resized to 128 px,
    for one epoch of one image; returns the written config's path."""
    cfg = shrunk_config(relpath)
    version = cfg.get('angle_version', 'oc')
    ann = tmp_path / 'annfiles'
    ann.mkdir()
    shutil.copy(os.path.join(SAMPLE, 'labelTxt', 'P0004__1__0___0.txt'), ann)
    norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                to_rgb=True)
    train_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='RResize', img_scale=(128, 128)),
        dict(type='RRandomFlip', flip_ratio=0.5, version=version),
        dict(type='Normalize', **norm),
        dict(type='Pad', size_divisor=32),
        dict(type='DefaultFormatBundle'),
        dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels'])
    ]
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='MultiScaleFlipAug', img_scale=(128, 128), flip=False,
             transforms=[
                 dict(type='RResize'),
                 dict(type='Normalize', **norm),
                 dict(type='Pad', size_divisor=32),
                 dict(type='DefaultFormatBundle'),
                 dict(type='Collect', keys=['img'])
             ])
    ]
    for part, pipeline in (('train', train_pipeline), ('val', test_pipeline),
                           ('test', test_pipeline)):
        cfg.data[part].update(ann_file=str(ann) + '/',
                              img_prefix=os.path.join(SAMPLE, 'images') + '/',
                              pipeline=pipeline)
    cfg.data.update(samples_per_gpu=1, workers_per_gpu=0)
    cfg.custom_imports = dict(imports=['rotated_tod'],
                              allow_failed_imports=False)
    cfg.runner = dict(type='EpochBasedRunner', max_epochs=1)
    cfg.lr_config = dict(policy='step', warmup=None, step=[1])
    cfg.log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook')])
    cfg.checkpoint_config = dict(interval=1)
    cfg.evaluation = dict(interval=1, metric='mAP')
    cfg.pop('fp16', None)
    path = tmp_path / 'small.py'
    cfg.dump(str(path))
    return str(path)


@pytest.mark.parametrize('relpath', THROUGH_TOOLS)
def test_trains_and_tests_through_the_tools(relpath, tmp_path):
    config = tools_config(relpath, tmp_path)
    work = tmp_path / 'work'
    run_tool('train.py', [config, '--work-dir', work, '--no-validate'])
    checkpoint = work / 'epoch_1.pth'
    assert checkpoint.exists()
    log = next(work.glob('*.log.json')).read_text()
    assert '"mode": "train"' in log and '"loss"' in log
    out = tmp_path / 'results.pkl'
    run_tool('test.py', [config, checkpoint, '--out', out])
    results = mmcv.load(str(out))
    assert len(results) == 1 and len(results[0]) == 15


@pytest.mark.parametrize('relpath', [
    'rotated_fcos/rotated_fcos_r50_fpn_1x_dota_le90.py',
    'oriented_rcnn/oriented_rcnn_r50_fpn_1x_dota_le90.py',
])
def test_soft_nms_selectable_in_test_cfg(relpath, monkeypatch):
    """``test_cfg.nms=dict(type='soft_rotated')`` reaches the NMS of a dense
    head and of a RoI head: soft-NMS runs, and with min_score 0 it keeps at
    least as many boxes as hard NMS at the same threshold."""
    from rotated_tod.core.post_processing import nms as nms_module
    calls = []
    soft = nms_module.soft_rotated_nms

    def spy(*args, **kwargs):
        calls.append(1)
        return soft(*args, **kwargs)

    monkeypatch.setattr(nms_module, 'soft_rotated_nms', spy)
    counts = {}
    for kind in ('rotated', 'soft_rotated'):
        cfg = shrunk_config(relpath)
        test_cfg = cfg.model.test_cfg.get('rcnn', cfg.model.test_cfg)
        test_cfg.update(score_thr=0.0, max_per_img=100000)
        if 'nms_pre' in cfg.model.test_cfg:
            cfg.model.test_cfg.nms_pre = 50
        test_cfg.nms = ConfigDict(type=kind, iou_thr=0.3)
        if kind == 'soft_rotated':
            test_cfg.nms.min_score = 0.0
        model = build_model(cfg)
        model.eval()
        batch = one_image_batch(num_classes(cfg))
        with torch.no_grad():
            result = model.simple_test(batch['img'], batch['img_metas'])
        counts[kind] = sum(len(r) for r in result[0])
    assert calls and 0 < counts['rotated'] <= counts['soft_rotated']

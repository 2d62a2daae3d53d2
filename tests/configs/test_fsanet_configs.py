"""The configs/fsanet configs: what each one builds (FSANet, its Rotated FCOS
baseline and the two ablations), and every config trains one iteration and
tests on the CPU through tools/train.py and tools/test.py (quarter-width
ResNet-18, one-conv towers, 128 px images: the test is about the
mechanics)."""
import glob
import os

import pytest

from tests.configs.tiny_config import TINY_CONFIG_HEAD
from tests.conftest import REPO
from tests.model_utils import load_config
from tests.tools.cli import run_tool

CONFIGS = sorted(glob.glob(os.path.join(REPO, 'configs', 'fsanet', '*.py')))

# name suffix -> (neck, head)
PARTS = {
    'fsanet': ('FeatureAlignFPN', 'SpatialAwareGuidanceHead'),
    'fa2m_only': ('FeatureAlignFPN', 'RotatedFCOSHead'),
    'sagh_only': ('FPN', 'SpatialAwareGuidanceHead'),
    'rotated_fcos': ('FPN', 'RotatedFCOSHead'),
}


def kind(path: str) -> str:
    name = os.path.basename(path)
    for suffix in ('fa2m_only', 'sagh_only'):
        if name.endswith(f'_{suffix}.py'):
            return suffix
    return 'rotated_fcos' if name.startswith('rotated_fcos') else 'fsanet'


def test_one_config_per_method_and_dataset():
    names = {os.path.basename(p) for p in CONFIGS}
    for dataset in ('1x_dota', '6x_hrsc', '1x_synthetic'):
        assert f'fsanet_r50_{dataset}_le90.py' in names
        assert f'rotated_fcos_r50_fpn_p3_p5_{dataset}_le90.py' in names
    for dataset in ('dota', 'synthetic'):
        for ablation in ('fa2m_only', 'sagh_only'):
            assert f'fsanet_r50_1x_{dataset}_le90_{ablation}.py' in names
    assert 'fsanet_r50_p2_p6_1x_dota_le90.py' in names
    assert 'fsanet_r50_1x_synthetic_le90_geometric_offsets.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_builds_its_method(path):
    cfg = load_config(path)
    neck, head = cfg.model.neck, cfg.model.bbox_head
    assert cfg.model.type == 'RotatedFCOS'
    assert (neck.type, head.type) == PARTS[kind(path)]
    p2_p6 = 'p2_p6' in path
    assert neck.start_level == (0 if p2_p6 else 1)
    assert neck.num_outs == (5 if p2_p6 else 3)
    assert list(head.strides) == ([4, 8, 16, 32, 64] if p2_p6 else
                                  [8, 16, 32])
    assert head.stacked_convs == 3
    assert head.loss_bbox == dict(type='RotatedIoULoss', loss_weight=1.0)
    if head.type == 'SpatialAwareGuidanceHead':
        assert head.loss_bbox_coarse.loss_weight == 0.2
        assert head.deform_groups == 4
        assert head.offset_mode == ('geometric' if 'geometric' in path else
                                    'learned')
    test_cfg = cfg.model.test_cfg
    assert test_cfg.score_thr == 0.10 and test_cfg.nms_pre == 3000
    assert test_cfg.nms == dict(type='soft_rotated', iou_thr=0.5,
                                method='linear', min_score=1e-3)
    num_classes = dict(dota=15, hrsc=1, synthetic=4)
    dataset = next(d for d in num_classes if f'_{d}_' in path)
    assert head.num_classes == num_classes[dataset]


SMALL = TINY_CONFIG_HEAD + '''
model = dict(
    backbone=dict(depth=18, base_channels=16, frozen_stages=-1,
                  norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=32),
    bbox_head=dict(in_channels=32, feat_channels=32, stacked_convs=1))
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


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_trains_and_tests_through_the_tools(path, data_roots,
                                                   tmp_path):
    dataset = next(d for d in data_roots if f'_{d}_' in path)
    (train_ann, train_img), (test_ann, test_img), extra = data_roots[dataset]
    config = tmp_path / 'small.py'
    config.write_text(SMALL.format(
        base=path, train_ann=train_ann, train_img=train_img,
        test_ann=test_ann, test_img=test_img, extra=extra))
    work = tmp_path / 'work'
    run_tool('train.py', [config, '--work-dir', work, '--no-validate'])
    checkpoint = work / 'iter_1.pth'
    assert checkpoint.exists(), os.listdir(work)
    run_tool('test.py', [config, checkpoint, '--eval', 'mAP'])

"""mmrotate's stock Rotated RetinaNet config and our R50 baseline train and
test on CPU through tools/train.py and tools/test.py (one 256 px step on
the mmrotate DOTA sample patch)."""
import os
import shutil

import mmrotate
import pytest

from tests.conftest import REPO
from tests.tools.cli import run_tool

SAMPLE = os.path.join(REPO, 'tests', 'data', 'mmrotate_samples')
STOCK = os.path.join(
    os.path.dirname(mmrotate.__file__), '.mim', 'configs',
    'rotated_retinanet', 'rotated_retinanet_obb_r50_fpn_1x_dota_le90.py')
OURS = os.path.join(REPO, 'configs', 'baselines',
                    'rotated_retinanet_r50_fpn_1x_dota_le90.py')

SMALL = '''
_base_ = {base!r}
custom_imports = dict(imports=['rotated_tod'], allow_failed_imports=False)
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RResize', img_scale=(256, 256)),
    dict(type='RRandomFlip', flip_ratio=0.5, version='le90'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels'])
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiScaleFlipAug', img_scale=(256, 256), flip=False,
         transforms=[
             dict(type='RResize'),
             dict(type='Normalize', **img_norm_cfg),
             dict(type='Pad', size_divisor=32),
             dict(type='DefaultFormatBundle'),
             dict(type='Collect', keys=['img'])
         ])
]
model = dict(backbone=dict(init_cfg=None))
data = dict(
    samples_per_gpu=1, workers_per_gpu=0,
    train=dict(ann_file={ann!r}, img_prefix={img!r},
               pipeline=train_pipeline),
    val=dict(ann_file={ann!r}, img_prefix={img!r}, pipeline=test_pipeline,
             {extra}),
    test=dict(ann_file={ann!r}, img_prefix={img!r}, pipeline=test_pipeline,
              {extra}))
runner = dict(type='EpochBasedRunner', max_epochs=1)
lr_config = dict(warmup_iters=1)
log_config = dict(interval=1)
'''


@pytest.mark.parametrize('base', [STOCK, OURS], ids=['mmrotate', 'ours'])
def test_config_trains_and_tests_on_cpu(base, tmp_path):
    ann = tmp_path / 'annfiles'
    ann.mkdir()
    shutil.copy(os.path.join(SAMPLE, 'labelTxt', 'P0004__1__0___0.txt'), ann)
    config = tmp_path / 'small.py'
    config.write_text(
        SMALL.format(base=base, ann=str(ann) + '/',
                     img=os.path.join(SAMPLE, 'images') + '/',
                     extra='full_ann_dir=None' if base == OURS else ''))
    work = tmp_path / 'work'
    run_tool('train.py', [config, '--work-dir', work])
    checkpoint = work / 'epoch_1.pth'
    assert checkpoint.exists()
    run_tool('test.py', [config, checkpoint, '--eval', 'mAP'])
    submission = tmp_path / 'submission'
    run_tool('test.py', [
        config, checkpoint, '--format-only', '--submission-dir', submission
    ])
    task1 = [f for f in os.listdir(submission) if f.startswith('Task1')]
    assert task1, os.listdir(submission)

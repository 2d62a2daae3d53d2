"""Every configs/afmnet config trains one iteration and tests on the CPU
through tools/train.py and tools/test.py (quarter-width ResNet-18, 32-channel
FPN and heads, 128 px images: the test is about the mechanics), and the
runner switches the heads from ATSS to task-aligned assignment."""
import glob
import os

import pytest

from rotated_tod.core.bbox.assigners import (
    RotatedATSSAssigner,
    RotatedTaskAlignedAssigner,
)
from tests.configs.tiny_config import TINY_CONFIG_HEAD
from tests.conftest import REPO
from tests.model_utils import load_config
from tests.tools.cli import run_tool

CONFIGS = sorted(glob.glob(os.path.join(REPO, 'configs', 'afmnet', '*.py')))

SMALL = TINY_CONFIG_HEAD + '''
# GN(32) on P7 of a 128 px image (1 x 1) would normalise single values.
tiny_head = dict(in_channels=32, feat_channels=32, stacked_convs=2,
                 norm_cfg=dict(type='GN', num_groups=8, requires_grad=True))
model = dict(
    backbone=dict(depth=18, base_channels=16, frozen_stages=-1,
                  norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=32),
{heads})
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


def head_overrides(path: str) -> str:
    """The narrowing of the heads and parts the config has (a part set to
    None by an ablation stays None)."""
    model = load_config(path).model
    lines = []
    for key in ('bbox_head', 'small_head'):
        head = model.get(key)
        if head is None:
            continue
        parts = ''
        if head.get('mining'):
            parts += ', mining=dict(num_heads=4)'
        if head.get('interaction'):
            parts += (', interaction=dict(embed_dims=32, num_heads=4, '
                      'num_rois=20)')
        lines.append(f'    {key}=dict(tiny_head{parts}),')
    if model.get('mask_branch'):
        lines.append('    mask_branch=dict(feat_channels=8),')
    return '\n'.join(lines)


def test_configs_per_dataset_and_ablation():
    names = {os.path.basename(p) for p in CONFIGS}
    for dataset in ('1x_dota', '6x_hrsc', '1x_synthetic'):
        assert f'afmnet_r50_fpn_{dataset}_le90.py' in names
        assert f'rotated_tood_r50_fpn_{dataset}_le90.py' in names
    for dataset in ('dota', 'synthetic'):
        for ablation in ('masks', 'mining', 'interaction', 'stride4'):
            assert f'afmnet_r50_fpn_1x_{dataset}_le90_no_{ablation}.py' in names
    assert len(names) == 14


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_trains_and_tests_through_the_tools(path, data_roots,
                                                   tmp_path):
    dataset = next(d for d in data_roots if f'_{d}_' in path)
    (train_ann, train_img), (test_ann, test_img), extra = data_roots[dataset]
    config = tmp_path / 'small.py'
    config.write_text(SMALL.format(
        base=path, heads=head_overrides(path), train_ann=train_ann,
        train_img=train_img, test_ann=test_ann, test_img=test_img,
        extra=extra))
    work = tmp_path / 'work'
    run_tool('train.py', [config, '--work-dir', work, '--no-validate'])
    checkpoint = work / 'iter_1.pth'
    assert checkpoint.exists(), os.listdir(work)
    run_tool('test.py', [config, checkpoint, '--eval', 'mAP'])


@pytest.mark.parametrize('unit', ['epoch', 'iter'])
def test_tools_switch_from_atss_to_task_aligned(unit, data_roots, tmp_path,
                                                monkeypatch):
    """The runner drives the switch (TrainProgressHook): one step of ATSS,
    then task-aligned assignment, by epochs (DOTA config, one image per
    epoch) or by iterations (synthetic config)."""
    calls = []
    for cls in (RotatedATSSAssigner, RotatedTaskAlignedAssigner):
        original = cls.assign

        def spy(self, *args, _cls=cls, _original=original, **kwargs):
            calls.append(_cls.__name__)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, 'assign', spy)
    dataset = 'dota' if unit == 'epoch' else 'synthetic'
    path = os.path.join(REPO, 'configs', 'afmnet',
                        f'rotated_tood_r50_fpn_1x_{dataset}_le90.py')
    (train_ann, train_img), (test_ann, test_img), extra = data_roots[dataset]
    config = tmp_path / 'small.py'
    if unit == 'epoch':
        phase = '    train_cfg=dict(initial_epoch=1),'
        runner = "dict(_delete_=True, type='EpochBasedRunner', max_epochs=2)"
    else:
        phase = '    train_cfg=dict(initial_iter=1),'
        runner = "dict(_delete_=True, type='IterBasedRunner', max_iters=2)"
    config.write_text(SMALL.format(
        base=path, heads=head_overrides(path) + '\n' + phase,
        train_ann=train_ann, train_img=train_img, test_ann=test_ann,
        test_img=test_img, extra=extra) + f'runner = {runner}\n')
    run_tool('train.py', [config, '--work-dir', tmp_path / 'work',
                          '--no-validate'])
    assert calls == ['RotatedATSSAssigner', 'RotatedTaskAlignedAssigner']

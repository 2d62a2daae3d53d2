"""Each compat fix: the upstream function still shows the defect (so the test
would fail without the fix) and the installed replacement works."""
import os
import shutil

import numpy as np
import pytest
import torch

import rotated_tod  # noqa: F401
from rotated_tod import compat

DATA = os.path.join(os.path.dirname(__file__), 'data', 'mmrotate_samples')


def _retina_head():
    from mmrotate.models import build_head
    return build_head(
        dict(
            type='RotatedRetinaHead',
            num_classes=2,
            in_channels=8,
            stacked_convs=1,
            feat_channels=8,
            anchor_generator=dict(
                type='RotatedAnchorGenerator',
                octave_base_scale=4,
                scales_per_octave=1,
                ratios=[1.0],
                strides=[8, 16]),
            bbox_coder=dict(
                type='DeltaXYWHAOBBoxCoder', angle_range='le90',
                norm_factor=None, edge_swap=True, proj_xy=True)))


def test_get_anchors_made_on_the_requested_device():
    head = _retina_head()
    metas = [dict(pad_shape=(32, 32, 3))]
    anchors, flags = head.get_anchors([(4, 4), (2, 2)], metas, device='cpu')
    assert anchors[0][0].device.type == 'cpu'
    assert anchors[0][0].shape == (16, 5)
    assert flags[0][1].shape == (4, )
    # Upstream passes the device as dtype: on a machine without CUDA this
    # raises; with CUDA it silently builds anchors on the GPU.
    if not torch.cuda.is_available():
        with pytest.raises((RuntimeError, AssertionError, TypeError)):
            compat.ORIGINALS['get_anchors'](head, [(4, 4)], metas,
                                            device='cpu')


def test_merge_runs_without_touching_cuda(monkeypatch):
    calls = []

    def record_cuda(self, *args, **kwargs):
        calls.append(1)
        raise RuntimeError('CUDA in a forked worker')

    monkeypatch.setattr(torch.Tensor, 'cuda', record_cuda)
    dets = np.array([[0, 10, 10, 8, 4, 0, 0.9], [0, 10.5, 10, 8, 4, 0, 0.8],
                     [1, 50, 50, 6, 6, 0.3, 0.7]], np.float32)
    img_id, merged = compat.dota_merge_func(('P1', [dets]), ('a', 'b'), 0.1)
    assert img_id == 'P1'
    assert len(merged[0]) == 1 and merged[0][0, -1] == pytest.approx(0.9)
    assert len(merged[1]) == 1
    assert not calls
    compat.ORIGINALS['merge_func'](('P1', [dets]), ('a', 'b'), 0.1)
    assert calls, 'upstream merge no longer calls .cuda(): drop this fix'


def _mmrotate_dota_dataset(tmp_path):
    from mmrotate.datasets import build_dataset
    ann = tmp_path / 'ann'
    shutil.copytree(os.path.join(DATA, 'labelTxt'), ann)
    return build_dataset(
        dict(type='DOTADataset', ann_file=str(ann) + '/',
             img_prefix=os.path.join(DATA, 'images') + '/', pipeline=[],
             version='le90', test_mode=True))


def test_format_results_without_submission_dir(tmp_path):
    dataset = _mmrotate_dota_dataset(tmp_path)
    results = [[np.array([[100, 100, 40, 20, 0.1, 0.9]], np.float32)] +
               [np.zeros((0, 6), np.float32)] * 14 for _ in dataset.data_infos]
    files, tmp_dir = dataset.format_results(results, nproc=1)
    try:
        assert tmp_dir is not None and os.path.isdir(tmp_dir.name)
        assert len(files) == 15 and all(os.path.exists(f) for f in files)
        with open(files[0]) as f:
            assert f.read().startswith('P0004 0.89')
    finally:
        tmp_dir.cleanup()
    with pytest.raises((UnboundLocalError, NameError, TypeError)):
        compat.ORIGINALS['format_results'](dataset, results, None, 1)


def test_train_detector_redirected_to_device_aware_version():
    import mmrotate.apis

    from rotated_tod.apis import train_detector
    assert mmrotate.apis.train_detector is train_detector
    source = compat.ORIGINALS['train_detector'].__code__.co_names
    assert 'cuda' in source, 'upstream no longer calls .cuda(): drop fix'


def test_multi_gpu_test_redirected_and_gathers_on_gloo(tmp_path):
    import mmdet.apis
    import torch.distributed as dist
    from mmcv.parallel import MMDistributedDataParallel

    from rotated_tod.apis import multi_device_test
    assert mmdet.apis.multi_gpu_test is multi_device_test

    class Echo(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, img, return_loss=False, rescale=True):
            return [float(v) for v in img.flatten()]

    dist.init_process_group(
        'gloo', init_method=f'file://{tmp_path}/store', rank=0, world_size=1)
    try:
        model = MMDistributedDataParallel(Echo(), device_ids=None)
        assert model(torch.tensor([2.0])) == [2.0]
        with pytest.raises(AttributeError, match='_use_replicated'):
            compat.ORIGINALS['ddp_forward'](model, torch.tensor([2.0]))
        loader = torch.utils.data.DataLoader(
            [{'img': torch.tensor([float(i)])} for i in range(5)],
            batch_size=2)
        results = mmdet.apis.multi_gpu_test(model, loader)
        assert results == [0.0, 1.0, 2.0, 3.0, 4.0]
        if not torch.cuda.is_available():
            # Without a tmpdir (mmdet's tools/test.py default) or with
            # gpu_collect, upstream gathers through CUDA tensors.
            with pytest.raises((RuntimeError, AssertionError)):
                compat.ORIGINALS['multi_gpu_test'](model, loader)
    finally:
        dist.destroy_process_group()


def test_get_cat_ids_on_numpy_2(tmp_path):
    dataset = _mmrotate_dota_dataset(tmp_path)
    index = next(i for i, info in enumerate(dataset.data_infos)
                 if len(info['ann']['labels']))
    assert dataset.get_cat_ids(index) == \
        dataset.data_infos[index]['ann']['labels'].tolist()
    if not hasattr(np, 'int'):
        with pytest.raises(AttributeError):
            compat.ORIGINALS['get_cat_ids'](dataset, index)


def test_draw_rbboxes_on_numpy_2():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from mmrotate.core.visualization import image as mmrotate_image

    fig, ax = plt.subplots()
    boxes = np.array([[20, 20, 10, 4, 0.3], [40, 30, 8, 8, 0.0]])
    mmrotate_image.draw_rbboxes(ax, boxes)
    patches = ax.collections[0].get_paths()
    assert len(patches) == 2
    corners = patches[0].vertices[:4]
    assert np.allclose(corners.mean(0), [20, 20], atol=1)
    plt.close(fig)
    if not hasattr(np, 'int0'):
        fig, ax = plt.subplots()
        with pytest.raises(AttributeError):
            compat.ORIGINALS['draw_rbboxes'](ax, boxes)
        plt.close(fig)


def test_iter_checkpoint_records_finished_iterations(tmp_path):
    """Resume continues after the saved iteration instead of repeating it
    (tests/apis/test_train.py checks the resumed log end to end)."""
    import logging

    from mmcv.runner import IterBasedRunner

    class Model(torch.nn.Linear):

        def train_step(self, data, optimizer):
            return {}

    model = Model(2, 1)
    runner = IterBasedRunner(
        model, optimizer=torch.optim.SGD(model.parameters(), 0.1),
        work_dir=str(tmp_path), logger=logging.getLogger('test'))
    runner._iter = 4  # inside after_train_iter of the 5th iteration
    runner.save_checkpoint(str(tmp_path))
    saved = torch.load(tmp_path / 'iter_5.pth', weights_only=False)
    assert saved['meta']['iter'] == 5
    compat.ORIGINALS['iter_checkpoint'](runner, str(tmp_path / 'up'))
    upstream = torch.load(tmp_path / 'up' / 'iter_5.pth', weights_only=False)
    assert upstream['meta']['iter'] == 4


def test_sync_random_seed_installed_in_mmdet_samplers():
    """The two-rank broadcast itself runs in tests/apis/test_distributed.py,
    which fails without this fix ("Found no NVIDIA driver")."""
    from mmdet.datasets.samplers import (
        class_aware_sampler,
        distributed_sampler,
        infinite_sampler,
    )
    for module in (distributed_sampler, class_aware_sampler,
                   infinite_sampler):
        assert module.sync_random_seed is compat.sync_random_seed
    assert compat.sync_random_seed(7, device='cuda') == 7
    assert 'cuda' in compat.ORIGINALS['sync_random_seed'].__defaults__

"""Each compat fix: the upstream function still shows the defect (so the test
would fail without the fix) and the installed replacement works."""
import math
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


def test_imshow_det_rbboxes_on_numpy_2(tmp_path):
    """mmrotate's result drawing end to end (it calls draw_rbboxes)."""
    from mmrotate.core.visualization import imshow_det_rbboxes
    img = np.zeros((64, 64, 3), np.uint8)
    boxes = np.array([[20, 20, 16, 6, 0.3, 0.9], [40, 40, 8, 8, 0.0, 0.8]],
                     np.float32)
    out = tmp_path / 'drawn.png'
    drawn = imshow_det_rbboxes(img, boxes, np.array([0, 1]),
                               class_names=['a', 'b'], show=False,
                               out_file=str(out))
    assert out.exists() and drawn.shape == (64, 64, 3) and drawn.any()


def test_multiclass_nms_rotated_installed_in_every_head_module():
    import importlib

    from mmcv import ConfigDict

    from rotated_tod.core.post_processing.nms import multiclass_nms_rotated
    for name in compat.NMS_HEAD_MODULES:
        module = importlib.import_module(name)
        assert module.multiclass_nms_rotated is multiclass_nms_rotated, name
    # 2 x 2 boxes 2.5 px apart: IoU 0, NWD 0.82. Gaussian NMS (0.8) keeps
    # one; mmrotate's own function ignores nms.type and keeps both.
    boxes = torch.tensor([[10.0, 10.0, 2.0, 2.0, 0.0],
                          [12.5, 10.0, 2.0, 2.0, 0.0]])
    scores = torch.tensor([[0.9, 0.0], [0.8, 0.0]])
    cfg = ConfigDict(type='gaussian', metric='nwd', iou_thr=0.8)
    from mmrotate.models.roi_heads.bbox_heads import rotated_bbox_head
    dets, _ = rotated_bbox_head.multiclass_nms_rotated(boxes, scores, 0.05,
                                                       cfg)
    assert len(dets) == 1
    original = compat.ORIGINALS[
        'multiclass_nms_rotated:mmrotate.models.roi_heads.bbox_heads.'
        'rotated_bbox_head']
    assert len(original(boxes, scores, 0.05, cfg)[0]) == 2


class _FakeCuda(torch.Tensor):
    """A CPU tensor that claims to be on CUDA (for the dispatch test)."""

    @property
    def is_cuda(self):
        return True


def test_cpu_fallback_dispatches_by_device():
    calls = []
    op = compat.cpu_fallback(lambda x: calls.append('cpu'),
                             lambda x: calls.append('cuda'))
    op(torch.zeros(1))
    op(torch.zeros(1).as_subclass(_FakeCuda))
    assert calls == ['cpu', 'cuda']


def _op_inputs():
    rng = np.random.default_rng(0)
    points = torch.from_numpy(rng.uniform(0, 20, (6, 18))).float()
    polys = torch.tensor([[2, 2, 14, 2, 14, 12, 2, 12],
                          [5, 0, 20, 5, 15, 20, 0, 15]], dtype=torch.float32)
    boxes = torch.tensor([[[10, 10, 8, 4, 0.3], [5, 5, 3, 3, 0.0]]])
    return {
        'diff_iou_rotated_2d': (boxes, boxes + torch.tensor([1, 0, 0, 0,
                                                            0.2])),
        'convex_iou': (points, polys),
        'convex_giou': (points[:2], polys),
        'min_area_polygons': (points, ),
        'points_in_polygons': (points[:, :2], polys),
        'chamfer_distance': (points.reshape(1, 6, 18)[..., :8].reshape(
            1, 24, 2), points[:3, :8].reshape(1, 12, 2)),
    }


@pytest.mark.parametrize('name', sorted(compat.CPU_OPS))
def test_cuda_only_ops_run_on_cpu(name):
    import importlib

    from rotated_tod import ops
    args = _op_inputs()[name]
    home = importlib.import_module(compat.CPU_OPS[name])
    installed = getattr(home, name)
    assert installed.cpu_op is getattr(ops, name)
    # every mmcv / mmrotate module that had bound the kernel now has ours
    assert not compat._binding_modules(name, compat.ORIGINALS[name])
    assert getattr(importlib.import_module('mmcv.ops'), name) is installed
    got, want = installed(*args), getattr(ops, name)(*args)
    for a, b in zip(got if isinstance(got, tuple) else (got, ),
                    want if isinstance(want, tuple) else (want, )):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match='device cpu not found'):
            compat.ORIGINALS[name](*args)


def test_rotated_iou_loss_on_cpu():
    """mmrotate's own RotatedIoULoss, -ln IoU, forward and backward."""
    from mmrotate.models import build_loss
    loss = build_loss(dict(type='RotatedIoULoss', loss_weight=1.0,
                           reduction='none'))
    pred = torch.tensor([[0.0, 0.0, 2.0, 2.0, 0.0], [0.0, 0.0, 4.0, 2.0, 0.5]],
                        requires_grad=True)
    target = torch.tensor([[1.0, 0.0, 2.0, 2.0, 0.0],
                           [0.0, 0.0, 4.0, 2.0, 0.5]])
    values = loss(pred, target)
    # IoU 2 / 6 and 1
    torch.testing.assert_close(values, torch.tensor([math.log(3.0), 0.0]),
                               rtol=0, atol=1e-6)
    values.sum().backward()
    assert pred.grad[0, 0] < 0  # moving towards the target lowers the loss


def test_convex_giou_losses_on_cpu(monkeypatch):
    from mmrotate.models import build_loss
    from mmrotate.models.losses.convex_giou_loss import BCConvexGIoULossFuction
    rng = np.random.default_rng(1)
    pred = torch.from_numpy(rng.normal(10, 3, (5, 18))).float()
    target = torch.tensor([[4, 4, 16, 4, 16, 12, 4, 12]] * 5,
                          dtype=torch.float32)
    weight = torch.tensor([1.0, 0.5, 1.0, 0.0, 1.0])
    for kind in ('ConvexGIoULoss', 'BCConvexGIoULoss'):
        points = pred.clone().requires_grad_()
        value = build_loss(dict(type=kind, loss_weight=1.0))(points, target,
                                                             weight)
        value.backward()
        assert torch.isfinite(value) and torch.isfinite(points.grad).all()
        assert points.grad.abs().sum() > 0
    # Upstream BC forward only differs by its .cuda(): made a no-op, it
    # gives the same loss and gradient as the fixed one.
    ours = pred.clone().requires_grad_()
    ours_value = BCConvexGIoULossFuction.apply(ours, target, weight, 'mean',
                                               None, 1.0)
    ours_value.backward()
    monkeypatch.setattr(torch.Tensor, 'cuda', lambda self, *a, **k: self)
    monkeypatch.setattr(BCConvexGIoULossFuction, 'forward',
                        compat.ORIGINALS['bc_convex_giou'])
    theirs = pred.clone().requires_grad_()
    theirs_value = BCConvexGIoULossFuction.apply(theirs, target, weight,
                                                 'mean', None, 1.0)
    theirs_value.backward()
    torch.testing.assert_close(ours_value, theirs_value, rtol=0, atol=0)
    torch.testing.assert_close(ours.grad, theirs.grad, rtol=0, atol=0)


def test_bc_convex_giou_upstream_moves_to_cuda():
    from mmrotate.models.losses.convex_giou_loss import BCConvexGIoULossFuction
    if torch.cuda.is_available():
        return
    target = torch.tensor([[4, 4, 16, 4, 16, 12, 4, 12]], dtype=torch.float32)
    pred = torch.rand(1, 18) * 10
    with pytest.raises((RuntimeError, AssertionError)):
        compat.ORIGINALS['bc_convex_giou'](
            type('Ctx', (), {'save_for_backward': lambda self, *a: None})(),
            pred, target)
    assert BCConvexGIoULossFuction.forward is compat.bc_convex_giou_forward


def test_riroi_align_rotated_module_on_cpu():
    from mmcv.ops import RiRoIAlignRotated

    from rotated_tod.ops import riroi_align_rotated
    layer = RiRoIAlignRotated((3, 3), 0.25, num_samples=2,
                              num_orientations=4)
    features = torch.randn(1, 8, 12, 12, requires_grad=True)
    rois = torch.tensor([[0, 20.0, 24.0, 16.0, 8.0, 0.6]])
    out = layer(features, rois)
    torch.testing.assert_close(
        out, riroi_align_rotated(features, rois, (3, 3), 0.25, 2, 4, False))
    out.sum().backward()
    assert features.grad.abs().sum() > 0
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match='device cpu not found'):
            compat.ORIGINALS['riroi_align_rotated'](layer, features, rois)


def test_reppoints_valid_flags_on_the_points_device():
    from mmrotate.models import build_head
    from mmrotate.models.dense_heads import (
        OrientedRepPointsHead,
        RotatedRepPointsHead,
        SAMRepPointsHead,
    )
    for head_cls in (OrientedRepPointsHead, RotatedRepPointsHead,
                     SAMRepPointsHead):
        assert head_cls.get_points is compat.reppoints_get_points
    head = build_head(dict(type='RotatedRepPointsHead', num_classes=2,
                           in_channels=8, feat_channels=8,
                           point_feat_channels=8, stacked_convs=1,
                           point_strides=[8, 16]))
    metas = [dict(pad_shape=(32, 32, 3))] * 2
    points, flags = head.get_points([(4, 4), (2, 2)], metas, 'cpu')
    assert len(points) == len(flags) == 2
    assert flags[0][0].device.type == 'cpu' and flags[0][0].all()
    assert points[1][1].shape == (4, 4)  # x, y, stride_w, stride_h
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match='NVIDIA'):
            compat.ORIGINALS['get_points:RotatedRepPointsHead'](
                head, [(4, 4), (2, 2)], metas, 'cpu')


def test_csl_fcos_head_misspelt_attribute():
    from mmrotate.models.dense_heads import CSLRFCOSHead
    assert compat.ORIGINALS['csl_fcos_seprate_angle'] is None  # upstream
    head = CSLRFCOSHead.__new__(CSLRFCOSHead)
    head.__dict__['separate_angle'] = True
    assert head.seprate_angle is True

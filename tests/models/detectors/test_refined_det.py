"""RefinedDet and the configs/refined_det configs: training step, test and
flip test-time augmentation on the CPU (ResNet-18, tiny inputs)."""
import glob

import numpy as np
import pytest
import torch

from rotated_tod.core.bbox.transforms import rbox_to_polygon
from rotated_tod.models.detectors import RefinedDet
from tests.model_utils import (
    build_model,
    inference,
    load_config,
    make_batch,
    num_classes_of,
    train_step,
)

CONFIG_DIR = 'configs/refined_det'
DOTA = f'{CONFIG_DIR}/refined_det_r50_fpn_1x_dota_le90.py'


def small_config(path, channels=32):
    """The config with a ResNet-18 and narrow FPN/head (mechanics only)."""
    cfg = load_config(path)
    cfg.model.backbone.depth = 18
    cfg.model.neck.in_channels = [64, 128, 256, 512]
    cfg.model.neck.out_channels = channels
    cfg.model.bbox_head.in_channels = channels
    cfg.model.bbox_head.feat_channels = channels
    cfg.model.bbox_head.stacked_convs = 2
    return cfg


@pytest.fixture(scope='module')
def trained_refined_det():
    """A RefinedDet after one training step (the BN statistics move), in
    eval mode, with a low score threshold so that the tests see boxes."""
    cfg = small_config(DOTA)
    model = build_model(cfg)
    batch = make_batch(num_classes_of(cfg), num_imgs=2, size=(128, 128))
    losses = train_step(model, batch)
    model.eval()
    for test_cfg in (model.test_cfg, model.bbox_head.test_cfg):
        test_cfg.update(score_thr=0.01, nms_pre=300, max_per_img=200)
    return model, losses


def test_train_step_and_inference_from_config(trained_refined_det):
    model, losses = trained_refined_det
    assert isinstance(model, RefinedDet)
    assert {'loss_coarse_cls', 'loss_coarse_bbox', 'loss_cls',
            'loss_bbox'} <= set(losses)
    assert all(np.isfinite(v) for v in losses.values())
    assert losses['loss_bbox'] > 0 and losses['loss_coarse_bbox'] > 0
    batch = make_batch(15, num_imgs=2, size=(128, 128), seed=1)
    results = inference(model, batch)
    assert len(results) == 2
    for per_class in results:
        assert len(per_class) == 15
        assert all(a.ndim == 2 and a.shape[1] == 6 for a in per_class)
    assert sum(len(a) for a in results[0]) > 0


@pytest.mark.parametrize('name', [
    'cla_rotated_retinanet_r50_fpn_1x_dota_le90.py',
    'frhead_rotated_retinanet_r50_fpn_1x_dota_le90.py',
])
def test_ablation_train_steps(name):
    cfg = small_config(f'{CONFIG_DIR}/{name}')
    model = build_model(cfg)
    losses = train_step(model, make_batch(15, num_imgs=1, size=(96, 96)))
    assert all(np.isfinite(v) for v in losses.values())
    assert losses['loss'] > 0


def scaled_metas(img, scale=2.0, flip=False, direction='horizontal'):
    """Metas of a view that is the original image resized by ``scale``."""
    h, w = img.shape[-2:]
    return [dict(img_shape=(h, w, 3), ori_shape=(int(h / scale),
                                                 int(w / scale), 3),
                 pad_shape=(h, w, 3), batch_input_shape=(h, w),
                 scale_factor=np.full(4, scale, np.float32), flip=flip,
                 flip_direction=direction) for _ in range(img.shape[0])]


def all_boxes(per_class):
    return np.concatenate([a for a in per_class if len(a)], 0)


@pytest.mark.parametrize('rescale', [True, False])
def test_aug_test_with_one_plain_view_equals_simple_test(
        trained_refined_det, rescale):
    model, _ = trained_refined_det
    img = make_batch(15, num_imgs=1, size=(96, 96), seed=2)['img']
    metas = scaled_metas(img)
    with torch.no_grad():
        simple = model.simple_test(img, metas, rescale=rescale)[0]
        aug = model.aug_test([img], [metas], rescale=rescale)[0]
    assert sum(len(a) for a in simple) > 0
    for expected, got in zip(simple, aug):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_aug_test_maps_flipped_view_back(trained_refined_det, direction):
    """A flipped view's detections, mapped back, are the detections of that
    flipped image mirrored: their corners are the mirrored corners, and they
    are le90 boxes (w >= h, theta in [-pi/2, pi/2)) like the config's."""
    model, _ = trained_refined_det
    img = make_batch(15, num_imgs=1, size=(96, 96), seed=3)['img']
    dims = dict(horizontal=[-1], vertical=[-2], diagonal=[-1, -2])[direction]
    flipped = img.flip(dims)
    with torch.no_grad():
        on_flipped = model.simple_test(flipped, scaled_metas(flipped, 1.0),
                                       rescale=True)[0]
        aug = model.aug_test(
            [flipped],
            [scaled_metas(flipped, 1.0, flip=True, direction=direction)],
            rescale=True)[0]
    source, mapped = all_boxes(on_flipped), all_boxes(aug)
    assert len(source) == len(mapped) > 0
    np.testing.assert_allclose(mapped[:, 5], source[:, 5], rtol=1e-6)
    assert (mapped[:, 2] >= mapped[:, 3]).all()
    assert ((mapped[:, 4] >= -np.pi / 2) & (mapped[:, 4] < np.pi / 2)).all()
    corners = rbox_to_polygon(source[:, :5].astype(np.float64)).reshape(-1, 4, 2)
    for dim in dims:
        axis = 0 if dim == -1 else 1
        corners[..., axis] = 96 - 1 - corners[..., axis]
    got = rbox_to_polygon(mapped[:, :5].astype(np.float64)).reshape(-1, 4, 2)
    for want, have in zip(corners, got):
        # Same corner set (the order of the corners may differ).
        order = np.lexsort(want.T)
        np.testing.assert_allclose(have[np.lexsort(have.T)], want[order],
                                   atol=1e-2)


def test_flip_tta_merges_views(trained_refined_det):
    model, _ = trained_refined_det
    img = make_batch(15, num_imgs=1, size=(96, 96), seed=4)['img']
    views = [img, img.flip(-1), img.flip(-2)]
    metas = [scaled_metas(img, 1.0),
             scaled_metas(img, 1.0, True, 'horizontal'),
             scaled_metas(img, 1.0, True, 'vertical')]
    with torch.no_grad():
        merged = model.aug_test(views, metas, rescale=True)[0]
        singles = [all_boxes(model.aug_test([v], [m], rescale=True)[0])
                   for v, m in zip(views, metas)]
    boxes = all_boxes(merged)
    assert len(boxes) > 0 and boxes.shape[1] == 6
    # The merged set is no larger than the union of the views and its best
    # score is the best score of any view.
    assert len(boxes) <= sum(len(s) for s in singles)
    assert boxes[:, 5].max() == pytest.approx(
        max(s[:, 5].max() for s in singles), rel=1e-6)


@pytest.mark.parametrize('path', sorted(
    p for p in glob.glob(f'{CONFIG_DIR}/*.py')))
def test_configs_build_with_method_defaults(path):
    cfg = load_config(path)
    head = cfg.model.bbox_head
    generator = head.anchor_generator
    assert (generator.octave_base_scale, generator.scales_per_octave,
            list(generator.ratios)) == (4, 1, [1.0])
    assert head.bbox_coder.edge_swap and head.bbox_coder.proj_xy
    assert head.loss_cls.type == 'FocalLoss'
    assert (head.loss_bbox.type, head.loss_bbox.beta) == ('SmoothL1Loss',
                                                          0.11)
    test_cfg = cfg.model.test_cfg
    assert (test_cfg.nms.iou_thr, test_cfg.score_thr,
            test_cfg.max_per_img) == (0.1, 0.05, 2000)
    # Real-data configs keep the ImageNet initialisation for users.
    from mmcv import Config
    raw = Config.fromfile(path)
    assert raw.model.backbone.init_cfg.type == 'Pretrained'
    model = build_model(small_config(path))
    if 'cla_' in path:
        assert type(model.bbox_head).__name__ == 'CrossGridRetinaHead'
    else:
        assert isinstance(model, RefinedDet)
        assert type(model.bbox_head).__name__ == 'FRHead'
    assigner = 'MaxIoUAssigner' if 'frhead_' in path else 'CrossGridAssigner'
    assert type(model.bbox_head.assigner).__name__ == assigner
    if assigner == 'CrossGridAssigner':
        # The paper's cells unless the config names our variant.
        cells = 'nearest' if 'nearest_cells' in path else 'published'
        assert model.bbox_head.assigner.cells == cells
    if 'hrsc' in path:
        assert head.num_classes == 1 and cfg.runner.max_epochs == 72
        assert cfg.lr_config.step == [48, 66]
        assert cfg.data.train.pipeline[2].img_scale == (800, 512)
    elif 'synthetic' in path:
        assert head.num_classes == 4
    else:
        assert head.num_classes == 15 and cfg.runner.max_epochs == 12


def test_flip_tta_config_makes_the_three_views():
    from mmdet.datasets.pipelines import Compose
    cfg = load_config(
        f'{CONFIG_DIR}/refined_det_r50_fpn_1x_dota_le90_flip_tta.py')
    pipeline = Compose(cfg.data.test.pipeline)
    results = pipeline(dict(img_info=dict(filename='P1888.jpg'),
                            img_prefix='tests/data/dota_samples/images'))
    metas = [meta.data for meta in results['img_metas']]
    assert [(m['flip'], m['flip_direction']) for m in metas] == [
        (False, None), (True, 'horizontal'), (True, 'vertical')]
    h, w = metas[0]['img_shape'][:2]
    plain, hflip, vflip = (img.data[:, :h, :w] for img in results['img'])
    assert torch.equal(hflip, plain.flip(-1))
    assert torch.equal(vflip, plain.flip(-2))

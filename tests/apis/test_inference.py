"""Sliding-window inference on images larger than a patch."""
import copy
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmcv import Config

from rotated_tod.apis.inference import (
    format_detections,
    inference_huge_image,
    init_detector,
    patch_windows,
    read_detections,
    write_detections,
)
from rotated_tod.core.fileio import DOTA_CLASSES
from rotated_tod.datasets.dota_split import sliding_windows
from tests.model_utils import build_model, load_config

ROOT = Path(__file__).resolve().parents[2]
EMPTY = np.zeros((0, 6), np.float32)


class MarkerDetector(torch.nn.Module):
    """A stand-in detector: one class-0 box of size 6 x 3 centred on the
    brightest pixel of each patch (score: its brightness), none on a black
    patch. Records the batch sizes it is called with."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.batch_sizes = []
        self.cfg = Config(dict(data=dict(test=dict(pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='MultiScaleFlipAug', img_scale=(128, 128), flip=False,
                 transforms=[
                     dict(type='DefaultFormatBundle'),
                     dict(type='Collect', keys=['img'],
                          meta_keys=('img_shape', 'ori_shape'))
                 ])
        ]))))

    def forward(self, img, img_metas, return_loss=False, rescale=True):
        batch = img[0]
        assert batch.device == self.weight.device
        self.batch_sizes.append(len(batch))
        results = []
        for patch in batch:
            gray = patch.float().sum(0)
            if gray.max() <= 0:
                results.append([EMPTY, EMPTY])
                continue
            y, x = np.unravel_index(int(gray.argmax()), gray.shape)
            score = float(gray.max()) / 765
            results.append([
                np.array([[x + 0.5, y + 0.5, 6, 3, 0.2, score]], np.float32),
                EMPTY
            ])
        return results


def test_boxes_come_back_in_image_coordinates():
    image = np.zeros((260, 300, 3), np.uint8)
    image[140:142, 200:202] = 255      # seen by 4 rate-1 and 4 rate-0.5 patches
    image[240, 20] = 200               # seen by one rate-1 patch only
    model = MarkerDetector()
    dets = inference_huge_image(model, image, patch_size=128, gaps=(32, ),
                                rates=(1.0, 0.5), batch_size=3)
    assert len(dets) == 2 and dets[1].shape == (0, 6)
    boxes = dets[0][np.argsort(-dets[0][:, 5])]
    assert len(boxes) == 2        # duplicates of the patches merged
    np.testing.assert_allclose(boxes[0, :2], [201, 141], atol=0.51)
    np.testing.assert_allclose(boxes[1, :2], [20.5, 240.5], atol=1e-4)
    np.testing.assert_allclose(boxes[1, 2:], [6, 3, 0.2, 3 * 200 / 765],
                               atol=1e-5)
    windows = len(sliding_windows(300, 260, 128, 32)) + len(
        sliding_windows(150, 130, 128, 32))
    assert sum(model.batch_sizes) == windows == 13
    assert max(model.batch_sizes) == 3


def test_path_input_and_errors(tmp_path):
    image = np.zeros((100, 90, 3), np.uint8)
    image[50, 60] = 255
    path = tmp_path / 'one.png'
    cv2.imwrite(str(path), image)
    dets = inference_huge_image(MarkerDetector(), str(path), patch_size=64,
                                gaps=(16, ))
    np.testing.assert_allclose(dets[0][:, :2], [[60.5, 50.5]])
    with pytest.raises(ValueError, match='batch_size'):
        inference_huge_image(MarkerDetector(), image, batch_size=0)
    no_cfg = MarkerDetector()
    del no_cfg.cfg
    with pytest.raises(ValueError, match='model.cfg'):
        inference_huge_image(no_cfg, image, patch_size=64, gaps=(16, ))
    with pytest.raises(FileNotFoundError, match='missing.png'):
        inference_huge_image(MarkerDetector(), str(tmp_path / 'missing.png'))


def test_patch_windows_union_of_gaps():
    windows = patch_windows(300, 200, 128, gaps=(32, 64), rates=(1.0, 2.0))
    for rate, (w, h) in ((1.0, (300, 200)), (2.0, (600, 400))):
        mine = {tuple(win) for r, win in windows if r == rate}
        expected = {tuple(win) for gap in (32, 64)
                    for win in sliding_windows(w, h, 128, gap)}
        assert mine == expected
    assert len(windows) == len({(r, tuple(w)) for r, w in windows})


def _tiny_config():
    cfg = load_config(
        str(ROOT / 'configs/baselines/rotated_retinanet_r50_fpn_1x_dota_le90.py'))
    cfg.model.backbone.depth = 18
    cfg.model.neck.in_channels = [64, 128, 256, 512]
    cfg.model.neck.out_channels = 32
    head = cfg.model.bbox_head
    head.in_channels = head.feat_channels = 32
    head.stacked_convs = 1
    head.num_classes = 3
    # random weights score about 0.01: keep every box so there is something
    # to merge
    cfg.model.test_cfg.update(score_thr=0.0, nms_pre=40, max_per_img=60)
    cfg.data.test.pipeline[1].img_scale = (64, 64)
    return cfg


def _tiny_retinanet():
    cfg = _tiny_config()
    model = build_model(cfg)
    model.cfg = cfg
    return model.eval()


def test_init_detector_leaves_the_config_alone():
    cfg = _tiny_config()
    cfg.data.test.dota_version = 'v1.5'
    model = init_detector(cfg, device='cpu')
    assert cfg.model.train_cfg is not None     # the caller's copy
    assert model.cfg.model.train_cfg is None and not model.training
    classes = model.CLASSES
    assert classes == DOTA_CLASSES['v1.5']
    assert next(model.parameters()).device.type == 'cpu'


def test_matches_mmrotate_inference_by_patches():
    """A tiny Rotated RetinaNet: the same merged boxes as mmrotate's
    inference_detector_by_patches (rate 1, where both cut the same
    windows)."""
    from mmrotate.apis import inference_detector_by_patches
    model = _tiny_retinanet()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (90, 100, 3), dtype=np.uint8)
    ours = inference_huge_image(model, image, patch_size=64, gaps=(16, ),
                                batch_size=2)
    model.cfg = copy.deepcopy(model.cfg)
    theirs = inference_detector_by_patches(model, image, sizes=[64],
                                           steps=[48], ratios=[1.0],
                                           merge_iou_thr=0.1, bs=2)
    assert len(ours) == len(theirs) == 3
    assert sum(len(d) for d in ours) > 20
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a[np.lexsort(a.T)], b[np.lexsort(b.T)],
                                   rtol=1e-4, atol=1e-3)
    # image coordinates: centres spread over the whole image, not one patch
    centres = np.concatenate([d[:, :2] for d in ours])
    assert centres[:, 0].max() > 64 and centres[:, 1].max() > 64


def test_detection_text_round_trip(tmp_path):
    dets = [np.array([[50, 40, 20, 8, 0.3, 0.9], [10, 10, 4, 2, -1.0, 0.2]],
                     np.float32), EMPTY]
    text = format_detections(dets, ('car', 'ship'), score_thr=0.0)
    lines = text.splitlines()
    assert len(lines) == 2 and lines[0].endswith('car 0.9000')
    path = tmp_path / 'd.txt'
    write_detections(str(path), dets, ('car', 'ship'), score_thr=0.5)
    back = read_detections(str(path), ('car', 'ship'))
    assert back[1].shape == (0, 6) and back[0].shape == (1, 6)
    np.testing.assert_allclose(back[0], dets[0][:1], atol=0.02)
    path.write_text(lines[0] + '\n1 2 3 car 0.5\n')
    with pytest.raises(ValueError, match=r'd\.txt:2:'):
        read_detections(str(path), ('car', 'ship'))

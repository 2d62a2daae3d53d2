"""INEN inside Oriented R-CNN's and RoI Transformer's RoI heads: training
mode returns the detector's logits, eval mode the fused ones, and per-image
graphs make an image's detections independent of its batch."""
import os

import numpy as np
import pytest
import torch
from mmrotate.core import rbbox2roi

from tests.conftest import REPO
from tests.model_utils import build_model, load_config, make_batch

CONFIGS = {
    name: os.path.join(REPO, 'configs', 'swin_tod',
                       f'swin_tod_{name}_r50_fpn_1x_synthetic_le90.py')
    for name in ('oriented_rcnn', 'roi_trans')
}


def small_model(name):
    cfg = load_config(CONFIGS[name])
    model = cfg.model
    model.backbone.update(depth=18, base_channels=16, frozen_stages=-1,
                          norm_eval=False)
    model.neck.update(in_channels=[16, 32, 64, 128], out_channels=16)
    model.rpn_head.update(in_channels=16, feat_channels=16)
    roi_head = model.roi_head
    extractors = roi_head.bbox_roi_extractor
    heads = roi_head.bbox_head
    for extractor in (extractors if isinstance(extractors, list) else
                      [extractors]):
        extractor.out_channels = 16
    for head in (heads if isinstance(heads, list) else [heads]):
        head.update(in_channels=16, fc_out_channels=32, graph_channels=16)
    model.test_cfg.rpn.update(nms_pre=300, max_per_img=100)
    # Keep low-scoring detections: the comparison needs some.
    model.test_cfg.rcnn.update(score_thr=0.0, max_per_img=100)
    return build_model(cfg)


@pytest.mark.parametrize('name', CONFIGS)
def test_train_mode_raw_logits_eval_mode_fused(name):
    model = small_model(name)
    batch = make_batch(4, num_imgs=1, size=(64, 64))
    x = model.extract_feat(batch['img'])
    rois = rbbox2roi([torch.tensor([[20.0, 30.0, 16.0, 8.0, 0.3],
                                    [40.0, 20.0, 12.0, 12.0, -0.5],
                                    [22.0, 31.0, 15.0, 8.0, 0.2]])])
    roi_head = model.roi_head
    forward = ((lambda: roi_head._bbox_forward(x, rois)) if name ==
               'oriented_rcnn' else (lambda: roi_head._bbox_forward(1, x,
                                                                    rois)))
    head = (roi_head.bbox_head if name == 'oriented_rcnn' else
            roi_head.bbox_head[1])
    model.train()
    with torch.no_grad():
        raw = forward()
    model.eval()
    with torch.no_grad():
        fused = forward()
        again = forward()
        want = head.test_logits(raw['bbox_feats'], raw['cls_score'], rois)
    assert not torch.equal(fused['cls_score'], raw['cls_score'])
    torch.testing.assert_close(fused['cls_score'], want)
    assert torch.equal(fused['cls_score'], again['cls_score'])


def scores_apart(together, alone, index):
    """Largest score difference of image ``index`` of ``together`` and the
    single image of ``alone`` (same detections per class required)."""
    worst = 0.0
    for dets_together, dets_alone in zip(together[index], alone[0]):
        assert dets_together.shape == dets_alone.shape
        # Boxes in px (< 64): float32 summation order only (the batch
        # changes the BLAS blocking of the shared layers), ~1e-5 seen.
        np.testing.assert_allclose(dets_together[:, :5], dets_alone[:, :5],
                                   rtol=0, atol=1e-3)
        if len(dets_alone):
            worst = max(worst, float(np.abs(dets_together[:, 5] -
                                            dets_alone[:, 5]).max()))
    return worst


@pytest.mark.parametrize('name', CONFIGS)
def test_detections_of_an_image_do_not_depend_on_its_batch(name):
    model = small_model(name).eval()
    batch = make_batch(4, num_imgs=2, size=(64, 64), seed=3)
    with torch.no_grad():
        together = model.simple_test(batch['img'], batch['img_metas'])
        alone = model.simple_test(batch['img'][1:], batch['img_metas'][1:])
    assert sum(len(d) for d in alone[0]) > 0
    # Scores in [0, 1]: 3e-7 apart from summation order alone.
    assert scores_apart(together, alone, 1) < 1e-5
    # A batch-wide graph (the published code's) links the two images.
    heads = model.roi_head.bbox_head
    for head in (heads if isinstance(heads, torch.nn.ModuleList) else
                 [heads]):
        head.cross_image = True
    with torch.no_grad():
        together = model.simple_test(batch['img'], batch['img_metas'])
    assert scores_apart(together, alone, 1) > 1e-4

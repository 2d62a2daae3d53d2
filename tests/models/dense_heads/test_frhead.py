"""FRHead and CrossGridRetinaHead on tiny CPU inputs."""
import math

import numpy as np
import pytest
import torch
from mmcv import ConfigDict
from mmrotate.models import build_head

import rotated_tod  # noqa: F401  (registers the heads)
from rotated_tod.models.dense_heads import FRHead

NUM_CLASSES = 3
STRIDES = [8, 16, 32]


def head_cfg(head_type='FRHead', ratios=(1.0, ), assigner='CrossGridAssigner',
             scale=4):
    return dict(
        type=head_type,
        num_classes=NUM_CLASSES,
        in_channels=16,
        feat_channels=16,
        stacked_convs=2,
        anchor_generator=dict(
            type='RotatedAnchorGenerator', octave_base_scale=scale,
            scales_per_octave=1, ratios=list(ratios), strides=STRIDES),
        bbox_coder=dict(
            type='DeltaXYWHAOBBoxCoder', angle_range='le90', norm_factor=None,
            edge_swap=True, proj_xy=True, target_means=(0., ) * 5,
            target_stds=(1., ) * 5),
        loss_cls=dict(type='FocalLoss', use_sigmoid=True, gamma=2.0,
                      alpha=0.25, loss_weight=1.0),
        loss_bbox=dict(type='SmoothL1Loss', beta=0.11, loss_weight=1.0),
        train_cfg=ConfigDict(
            assigner=dict(type=assigner, pos_iou_thr=0.5, neg_iou_thr=0.4,
                          min_pos_iou=0, ignore_iof_thr=-1,
                          iou_calculator=dict(type='RBboxOverlaps2D')),
            allowed_border=-1, pos_weight=-1, debug=False),
        test_cfg=ConfigDict(nms_pre=200, min_bbox_size=0, score_thr=0.05,
                            nms=dict(iou_thr=0.1), max_per_img=100))


def build(cfg):
    torch.manual_seed(0)
    head = build_head(cfg)
    head.init_weights()
    return head


def feats(num_imgs=2, size=64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(num_imgs, 16, size // s, size // s, generator=gen)
            for s in STRIDES]


def metas(num_imgs=2, size=64):
    return [dict(img_shape=(size, size, 3), pad_shape=(size, size, 3),
                 scale_factor=np.ones(4, np.float32))
            for _ in range(num_imgs)]


GT_BBOXES = [torch.tensor([[20., 24., 14., 6., 0.3], [44., 40., 30., 10.,
                                                         -1.0]]),
             torch.tensor([[30., 30., 9., 9., 0.]])]
GT_LABELS = [torch.tensor([0, 2]), torch.tensor([1])]


@pytest.mark.parametrize('ratios', [(1.0, ), (0.5, 1.0, 2.0)])
def test_output_shapes_for_every_level(ratios):
    head = build(head_cfg(ratios=ratios))
    num_anchors = len(ratios)
    outs = head(feats())
    assert len(outs) == 5
    for level, stride in enumerate(STRIDES):
        side = 64 // stride
        for logits in (outs[0][level], outs[2][level]):
            assert logits.shape == (2, num_anchors * NUM_CLASSES, side, side)
        for deltas in (outs[1][level], outs[3][level]):
            assert deltas.shape == (2, num_anchors * 5, side, side)
        assert outs[4][level].shape == (2, side * side * num_anchors, 5)
        assert not outs[4][level].requires_grad


def assert_same_squares(boxes, squares):
    """Same square boxes: a square's angle is only defined modulo pi/2
    (le90 with edge_swap may report -pi/2 for 0)."""
    assert torch.allclose(boxes[:, :4], squares[:, :4], atol=1e-4)
    quarter = math.pi / 2
    turn = torch.remainder(boxes[:, 4] - squares[:, 4], quarter)
    assert torch.minimum(turn, quarter - turn).max() < 1e-5


def test_rois_are_anchors_decoded_by_coarse_deltas():
    head = build(head_cfg())
    # Zero coarse deltas: the rois are the generator anchors.
    torch.nn.init.zeros_(head.retina_reg.weight)
    torch.nn.init.zeros_(head.retina_reg.bias)
    x = feats()
    rois = head(x)[4]
    anchors = head.anchor_generator.grid_priors(
        [f.shape[-2:] for f in x], device='cpu')
    for level_rois, level_anchors in zip(rois, anchors):
        assert_same_squares(level_rois[1], level_anchors)
    # A constant delta dx = 0.5 moves each roi by half its width along x
    # (theta = 0 anchors, proj_xy): the rois and, decoded once more, the
    # test boxes.
    head.retina_reg.bias.data[0] = 0.5
    torch.nn.init.zeros_(head.refine_reg.weight)
    torch.nn.init.zeros_(head.refine_reg.bias)
    outs = head(x)
    for level_rois, level_anchors in zip(outs[4], anchors):
        expected = level_anchors.clone()
        expected[:, 0] += 0.5 * expected[:, 2]
        assert_same_squares(level_rois[0], expected)
    boxes, scores = head.get_bboxes(*outs, img_metas=metas(size=1000),
                                    with_nms=False)[0]
    # Every test box is its roi moved by dx = 0.5 roi widths along the roi's
    # own w axis (proj_xy): (cx, cy) += w / 2 (cos a, sin a).
    rois = torch.cat([level[0] for level in outs[4]])
    expected = rois.clone()
    expected[:, 0] += rois[:, 2] / 2 * torch.cos(rois[:, 4])
    expected[:, 1] += rois[:, 2] / 2 * torch.sin(rois[:, 4])
    # Decoding clips the centres into the (1000 x 1000) image.
    expected[:, :2] = expected[:, :2].clamp(0, 999)
    dist = torch.cdist(boxes[:, :4], expected[:, :4])
    assert dist.min(1)[0].max() < 1e-3


def test_alignment_box_is_the_best_anchors_roi():
    head = build(head_cfg(ratios=(0.5, 1.0, 2.0)))
    rois = torch.arange(2 * 4 * 3 * 5, dtype=torch.float32).reshape(2, 12, 5)
    logits = torch.zeros(2, 3 * NUM_CLASSES, 2, 2)
    # Image 0, location 1 (row 0, col 1): anchor 2 has the best class logit.
    logits[0, 2 * NUM_CLASSES + 1, 0, 1] = 5.
    boxes = head._alignment_boxes(rois, logits)
    assert boxes.shape == (2, 4, 5)
    assert torch.equal(boxes[0, 1], rois[0, 1 * 3 + 2])
    assert torch.equal(boxes[1, 3], rois[1, 3 * 3])


def test_losses_finite_and_gradients_reach_refine_and_alignment():
    head = build(head_cfg())
    x = [f.requires_grad_() for f in feats()]
    outs = head(x)
    losses = head.loss(*outs, GT_BBOXES, GT_LABELS, metas())
    assert set(losses) == {'loss_coarse_cls', 'loss_coarse_bbox', 'loss_cls',
                           'loss_bbox'}
    total = sum(sum(v) for v in losses.values())
    for name, value in losses.items():
        assert all(torch.isfinite(v) for v in value), name
    assert all(float(sum(losses[k])) > 0 for k in losses)
    total.backward()
    for module in (head.refine_conv1x3, head.refine_conv3x1, head.refine_cls,
                   head.refine_reg, head.cls_attention,
                   head.align_convs[0].deform_conv, head.cls_convs[0].conv,
                   head.retina_reg):
        grad = module.weight.grad
        assert grad is not None and torch.isfinite(grad).all()
        assert grad.abs().sum() > 0, module


def test_final_stage_uses_rois_as_anchors_with_cla():
    head = build(head_cfg())
    outs = head(feats())
    featmap_sizes = [s.shape[-2:] for s in outs[0]]
    anchor_list, valid = head.get_anchors(featmap_sizes, metas())
    roi_list = [[level[i] for level in outs[4]] for i in range(2)]
    grid = head.prior_grid(featmap_sizes)
    targets = head.get_targets(roi_list, valid, GT_BBOXES, metas(),
                               gt_labels_list=GT_LABELS, prior_grid=grid,
                               return_sampling_results=True)
    sampling = targets[-1]
    for img_id, result in enumerate(sampling):
        assert len(result.pos_inds) > 0
        assert torch.equal(result.pos_bboxes,
                           torch.cat(roi_list[img_id])[result.pos_inds])
    # Without the grid the assigner refuses rather than silently degrading.
    with pytest.raises(ValueError, match='prior grid'):
        head.get_targets(anchor_list, valid, GT_BBOXES, metas(),
                         gt_labels_list=GT_LABELS)


def test_frhead_with_plain_max_iou_assigner():
    head = build(head_cfg(assigner='MaxIoUAssigner'))
    losses = head.loss(*head(feats()), GT_BBOXES, GT_LABELS, metas())
    assert all(torch.isfinite(v).all() for vs in losses.values() for v in vs)


def test_inference_returns_rotated_boxes():
    head = build(head_cfg())
    # Raise the classification prior so that boxes pass the score threshold.
    head.retina_cls.bias.data.fill_(0.)
    results = head.get_bboxes(*head(feats()), img_metas=metas())
    assert len(results) == 2
    for det_bboxes, det_labels in results:
        assert det_bboxes.ndim == 2 and det_bboxes.shape[1] == 6
        assert len(det_bboxes) == len(det_labels) > 0
        assert (det_bboxes[:, 2:4] > 0).all()
        assert (det_bboxes[:, 4] >= -math.pi / 2 - 1e-6).all()
        assert (det_bboxes[:, 4] < math.pi / 2 + 1e-6).all()
        assert (det_bboxes[:, 5] >= 0.05).all()
        assert ((det_labels >= 0) & (det_labels < NUM_CLASSES)).all()


@pytest.mark.parametrize('cells,num_pos', [('published', 2), ('nearest', 3)])
def test_cross_grid_retina_head_adds_the_cross_grid_positives(cells, num_pos):
    """With 16 px anchors at stride 8, the 12 px GT centred at grid
    (2.625, 2.375) of P3 gets its best anchor (3, 2) from max-IoU and from
    CLA the cell (2, 2) (published cells) or the two neighbour cells (2, 2),
    (3, 3) (nearest cells), as in the assigner test's scene."""
    x = feats(num_imgs=1)
    gts, labels = [torch.tensor([[21., 19., 12., 12., 0.]])], [
        torch.tensor([1])]
    counts = {}
    for head_type, assigner in (('RotatedRetinaHead', 'MaxIoUAssigner'),
                                ('CrossGridRetinaHead', 'CrossGridAssigner')):
        cfg = head_cfg(head_type, assigner=assigner, scale=2)
        if assigner == 'CrossGridAssigner':
            cfg['train_cfg']['assigner']['cells'] = cells
        head = build(cfg)
        outs = head(x)
        sizes = [s.shape[-2:] for s in outs[0]]
        anchor_list, valid = head.get_anchors(sizes, metas(1))
        kwargs = {}
        if head_type == 'CrossGridRetinaHead':
            kwargs['prior_grid'] = head.prior_grid(sizes)
        targets = head.get_targets(anchor_list, valid, gts, metas(1),
                                   gt_labels_list=labels, **kwargs)
        counts[head_type] = targets[4]
        losses = head.loss(*outs, gts, labels, metas(1))
        assert all(torch.isfinite(v) for vs in losses.values() for v in vs)
    assert counts['RotatedRetinaHead'] == 1
    assert counts['CrossGridRetinaHead'] == num_pos


def test_frhead_is_registered():
    assert isinstance(build(head_cfg()), FRHead)


def test_alignment_convolutions_start_as_s2anet_align_conv():
    """After ``init_weights`` every AlignConv weight is N(0, 0.01) (S2ANet);
    mmcv's DeformConv2d default, U(-1/sqrt(n), 1/sqrt(n)) with n = 16 * 9
    inputs, has std 1 / sqrt(3 n) = 0.048."""
    torch.manual_seed(0)
    head = build_head(head_cfg())
    before = torch.cat([conv.deform_conv.weight.detach().flatten()
                        for conv in head.align_convs])
    assert before.std() > 0.04
    head.init_weights()
    for conv in head.align_convs:
        weight = conv.deform_conv.weight.detach()
        # 16 * 16 * 9 = 2304 samples: the sample std of N(0, 0.01) is within
        # 0.01 * (1 +- 5 / sqrt(2 * 2304)) = 0.01 +- 0.0007 but for 1e-6 of
        # draws; the mean within 5 * 0.01 / sqrt(2304) = 0.001.
        assert abs(float(weight.std()) - 0.01) < 7e-4
        assert abs(float(weight.mean())) < 1e-3

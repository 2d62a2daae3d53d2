"""PartialLabelRotatedRetinaHead: without ``labelled_classes`` it is
RotatedRetinaHead exactly; with them, the other classes' logits of that image
get no classification gradient and its labelled classes train as before."""
import copy

import torch
from mmrotate.models import build_head

from rotated_tod.datasets import LabelledClasses, with_labelled_classes
from rotated_tod.models.dense_heads.partial_label_retina_head import (
    labelled_class_masks,
)

NUM_CLASSES = 3


def head_cfg(kind: str) -> dict:
    from mmcv import ConfigDict
    return ConfigDict(
        type=kind, num_classes=NUM_CLASSES, in_channels=8, feat_channels=8,
        stacked_convs=1,
        anchor_generator=dict(type='RotatedAnchorGenerator',
                              octave_base_scale=2, scales_per_octave=1,
                              ratios=[1.0], strides=[8, 16]),
        bbox_coder=dict(type='DeltaXYWHAOBBoxCoder', angle_range='le90',
                        norm_factor=None, edge_swap=True,
                        proj_xy=True, target_means=(.0, .0, .0, .0, .0),
                        target_stds=(1.0, 1.0, 1.0, 1.0, 1.0)),
        train_cfg=dict(
            assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.4,
                          neg_iou_thr=0.3, min_pos_iou=0.1,
                          ignore_iof_thr=-1,
                          iou_calculator=dict(type='RBboxOverlaps2D')),
            allowed_border=-1, pos_weight=-1, debug=False))


def inputs(labelled=None):
    torch.manual_seed(0)
    feats = [torch.randn(2, 8, 8, 8, requires_grad=True),
             torch.randn(2, 8, 4, 4, requires_grad=True)]
    metas = [dict(img_shape=(64, 64, 3), pad_shape=(64, 64, 3),
                  scale_factor=1.0) for _ in range(2)]
    if labelled is not None:
        metas[1]['labelled_classes'] = labelled
    gt_bboxes = [torch.tensor([[20., 20., 12., 8., 0.3]]),
                 torch.tensor([[40., 30., 10., 6., -0.5],
                               [12., 44., 14., 14., 0.0]])]
    gt_labels = [torch.tensor([0]), torch.tensor([1, 1])]
    return feats, metas, gt_bboxes, gt_labels


def losses_and_grads(kind, labelled=None):
    torch.manual_seed(1)
    head = build_head(head_cfg(kind))
    feats, metas, gt_bboxes, gt_labels = inputs(labelled)
    cls_scores, bbox_preds = head(feats)
    for score in cls_scores:
        score.retain_grad()
    losses = head.loss(cls_scores, bbox_preds, gt_bboxes, gt_labels, metas)
    total = sum(sum(v) for v in losses.values())
    total.backward()
    return losses, [s.grad for s in cls_scores]


def test_without_labelled_classes_equals_rotated_retina_head():
    ours, ours_grads = losses_and_grads('PartialLabelRotatedRetinaHead')
    ref, ref_grads = losses_and_grads('RotatedRetinaHead')
    for key in ('loss_cls', 'loss_bbox'):
        for a, b in zip(ours[key], ref[key]):
            assert torch.equal(a, b)
    for a, b in zip(ours_grads, ref_grads):
        assert torch.equal(a, b)


def test_unlabelled_classes_get_no_classification_gradient():
    _, grads = losses_and_grads('PartialLabelRotatedRetinaHead',
                                labelled=(1, ))
    _, full = losses_and_grads('PartialLabelRotatedRetinaHead')
    for grad, ref in zip(grads, full):
        # (N, A * C, H, W) with one anchor: channel c is class c
        assert torch.count_nonzero(grad[1, [0, 2]]) == 0
        assert torch.count_nonzero(grad[1, 1]) > 0
        # the other image and the labelled class are untouched
        assert torch.equal(grad[0], ref[0])
        assert torch.equal(grad[1, 1], ref[1, 1])
    losses, _ = losses_and_grads('PartialLabelRotatedRetinaHead',
                                 labelled=(1, ))
    ref, _ = losses_and_grads('RotatedRetinaHead')
    assert sum(losses['loss_cls']) < sum(ref['loss_cls'])
    for a, b in zip(losses['loss_bbox'], ref['loss_bbox']):
        assert torch.equal(a, b)


def test_masks_and_transform():
    assert labelled_class_masks([{}, {}], 3, torch.device('cpu')) is None
    masks = labelled_class_masks([{}, dict(labelled_classes=(2, ))], 3,
                                 torch.device('cpu'))
    assert masks.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert LabelledClasses([1])(dict())['labelled_classes'] == (1, )
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='Collect', keys=['img'])]
    marked = with_labelled_classes(copy.deepcopy(pipeline), [1])
    assert marked[1] == dict(type='LabelledClasses', classes=[1])
    assert 'labelled_classes' in marked[2]['meta_keys']
    assert pipeline[1] == dict(type='Collect', keys=['img'])
    # a Collect with its own meta keys keeps them
    own = [dict(type='Collect', keys=['img'], meta_keys=('filename', ))]
    assert with_labelled_classes(own, [0])[-1]['meta_keys'] == (
        'filename', 'labelled_classes')

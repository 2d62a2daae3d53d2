"""RPN heads whose assigner sees rotated GTs (SWIN-TOD's receptive-field
RPN): targets decode back to the GTs against the unmodified anchors, and an
image's targets do not depend on the images before it in a batch."""
import copy

import pytest
import torch
from mmcv import ConfigDict
from mmrotate.core import obb2xyxy
from mmrotate.models.builder import build_head

import rotated_tod  # noqa: F401  (registers the heads)
from rotated_tod.core.bbox.gaussian import box2gaussian

TRAIN_CFG = ConfigDict(
    assigner=dict(type='RFLAHierarchicalAssigner'),
    # Take every positive and negative: sampling is deterministic.
    sampler=dict(type='RandomSampler', num=100000, pos_fraction=0.5,
                 neg_pos_ub=-1, add_gt_as_proposals=False),
    allowed_border=-1,
    pos_weight=-1,
    debug=False)
ORIENTED = dict(
    type='ReceptiveFieldOrientedRPNHead',
    in_channels=8,
    feat_channels=8,
    version='le90',
    anchor_generator=dict(
        type='ReceptiveFieldAnchorGenerator', strides=[4, 8, 16],
        backbone=dict(type='ResNet', depth=18), fraction=0.5),
    bbox_coder=dict(
        type='MidpointOffsetCoder', angle_range='le90',
        target_means=[0.0] * 6, target_stds=[1.0, 1.0, 1.0, 1.0, 0.5, 0.5]),
    train_cfg=TRAIN_CFG)
HORIZONTAL = dict(
    ORIENTED, type='ReceptiveFieldRPNHead',
    bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4,
                    target_stds=[1.0] * 4))
META = dict(img_shape=(96, 96, 3), pad_shape=(96, 96, 3))
GTS = [
    torch.tensor([[30.0, 40.0, 20.0, 6.0, 0.5], [70.0, 60.0, 9.0, 9.0, -1.0]]),
    torch.tensor([[50.0, 20.0, 30.0, 8.0, 1.2], [20.0, 70.0, 12.0, 4.0, 0.1],
                  [75.0, 80.0, 6.0, 3.0, -0.4]]),
]


def anchors_of(head):
    sizes = [(96 // s, 96 // s) for s in (4, 8, 16)]
    anchors = head.prior_generator.grid_priors(sizes, device='cpu')
    flags = head.prior_generator.valid_flags(sizes, (96, 96), device='cpu')
    return torch.cat(anchors), torch.cat(flags)


def targets(head, anchors, flags, gts):
    return head._get_targets_single(anchors, flags, gts, None, None, META)


@pytest.mark.parametrize('cfg', [ORIENTED, HORIZONTAL],
                         ids=['oriented', 'horizontal'])
def test_targets_decode_to_the_gts_against_the_same_anchors(cfg):
    head = build_head(copy.deepcopy(cfg))
    anchors, flags = anchors_of(head)
    before = anchors.clone()
    labels, _, bbox_targets, bbox_weights, pos, _, result = targets(
        head, anchors, flags, GTS[1])
    assert torch.equal(anchors, before)
    assert len(pos) >= 3 * 2  # top-3 + top-1 per GT (some may be shared)
    assert (labels[pos] == 0).all() and (bbox_weights[pos] == 1).all()
    decoded = head.bbox_coder.decode(anchors[pos], bbox_targets[pos])
    gts = GTS[1][result.pos_assigned_gt_inds]
    if cfg is ORIENTED:
        # Same Gaussian (the angle representation may differ).
        for got, want in zip(box2gaussian(decoded), box2gaussian(gts)):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-3)
    else:
        torch.testing.assert_close(decoded, obb2xyxy(gts, 'le90'),
                                   rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize('cfg', [ORIENTED, HORIZONTAL],
                         ids=['oriented', 'horizontal'])
def test_an_image_gets_the_same_targets_in_a_batch_as_alone(cfg):
    head = build_head(copy.deepcopy(cfg))
    anchors, flags = anchors_of(head)
    # mmdet hands every image of a batch the same anchor tensors.
    targets(head, anchors, flags, GTS[0])
    in_batch = targets(head, anchors, flags, GTS[1])
    fresh, fresh_flags = anchors_of(head)
    alone = targets(head, fresh, fresh_flags, GTS[1])
    for got, want in zip(in_batch[:6], alone[:6]):
        assert torch.equal(got, want)


def test_rotated_gts_reach_the_assigner():
    head = build_head(copy.deepcopy(ORIENTED))
    anchors, flags = anchors_of(head)
    diagonal = torch.tensor([[48.0, 48.0, 40.0, 4.0, 0.7854]])
    x1, y1, x2, y2 = obb2xyxy(diagonal, 'le90')[0].tolist()
    hull = torch.tensor([[(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1,
                          0.0]])
    # An assigner fed the horizontal hulls could not tell these apart.
    a = targets(head, anchors, flags, diagonal)[4]
    b = targets(head, anchors, flags, hull)[4]
    assert set(a.tolist()) != set(b.tolist())


def test_decoded_regression_is_refused():
    with pytest.raises(ValueError, match='reg_decoded_bbox'):
        build_head(dict(copy.deepcopy(ORIENTED), reg_decoded_bbox=True))

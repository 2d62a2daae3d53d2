# Oriented R-CNN R50-FPN le90 with SWIN-TOD's smooth Wasserstein loss in
# place of SmoothL1 (RPN and RoI stage).
_base_ = [
    '../../_base_/models/oriented_rcnn_r50_fpn_le90.py', './swin_tod_parts.py'
]
model = dict(
    rpn_head=dict(loss_bbox={{_base_.swin_tod_rpn_loss_bbox}}),
    roi_head=dict(bbox_head=dict(loss_bbox={{_base_.swin_tod_roi_loss_bbox}})))

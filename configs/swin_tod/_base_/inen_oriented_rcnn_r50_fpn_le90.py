# Oriented R-CNN R50-FPN le90 with SWIN-TOD's INEN in its RoI stage.
_base_ = [
    '../../_base_/models/oriented_rcnn_r50_fpn_le90.py', './swin_tod_parts.py'
]
model = dict(
    roi_head=dict(
        type='INENOrientedRoIHead', bbox_head={{_base_.swin_tod_inen}}))

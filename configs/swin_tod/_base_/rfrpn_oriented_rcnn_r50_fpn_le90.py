# Oriented R-CNN R50-FPN le90 with SWIN-TOD's receptive-field RPN (RFLA's
# priors and hierarchical assignment on the rotated GTs).
_base_ = [
    '../../_base_/models/oriented_rcnn_r50_fpn_le90.py', './swin_tod_parts.py'
]
model = dict(
    type='ReceptiveFieldOrientedRCNN',
    rpn_head=dict(
        type='ReceptiveFieldOrientedRPNHead',
        anchor_generator={{_base_.swin_tod_anchor_generator}}),
    train_cfg=dict(rpn=dict(assigner={{_base_.swin_tod_rpn_assigner}})))

# SWIN-TOD made oriented on Oriented R-CNN R50-FPN le90: receptive-field RPN,
# INEN in the RoI stage, smooth Wasserstein loss everywhere (the official
# code's two changes against RFLA, on mmrotate's Oriented R-CNN).
_base_ = './inen_oriented_rcnn_r50_fpn_le90.py'
model = dict(
    type='ReceptiveFieldOrientedRCNN',
    rpn_head=dict(
        type='ReceptiveFieldOrientedRPNHead',
        anchor_generator={{_base_.swin_tod_anchor_generator}},
        loss_bbox={{_base_.swin_tod_rpn_loss_bbox}}),
    roi_head=dict(bbox_head=dict(loss_bbox={{_base_.swin_tod_roi_loss_bbox}})),
    train_cfg=dict(rpn=dict(assigner={{_base_.swin_tod_rpn_assigner}})))

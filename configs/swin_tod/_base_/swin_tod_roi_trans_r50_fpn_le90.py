# SWIN-TOD made oriented on RoI Transformer R50-FPN le90: receptive-field RPN
# (horizontal proposals, assignment on the rotated GTs), INEN in both RoI
# stages (each its own graph layers), smooth Wasserstein loss everywhere.
# The box heads are restated whole: mmcv replaces lists instead of merging
# them.
_base_ = [
    '../../_base_/models/roi_trans_r50_fpn_le90.py', './swin_tod_parts.py'
]
model = dict(
    type='ReceptiveFieldRoITransformer',
    rpn_head=dict(
        type='ReceptiveFieldRPNHead',
        anchor_generator={{_base_.swin_tod_anchor_generator}},
        loss_bbox={{_base_.swin_tod_rpn_loss_bbox}}),
    roi_head=dict(
        type='INENRoITransRoIHead',
        bbox_head=[
            dict(
                type='INENBBoxHead',
                in_channels=256,
                fc_out_channels=1024,
                roi_feat_size=7,
                num_classes=15,
                bbox_coder=dict(
                    type='DeltaXYWHAHBBoxCoder',
                    angle_range='le90',
                    norm_factor=2,
                    edge_swap=True,
                    target_means=[0., 0., 0., 0., 0.],
                    target_stds=[0.1, 0.1, 0.2, 0.2, 1]),
                reg_class_agnostic=True,
                loss_bbox={{_base_.swin_tod_roi_loss_bbox}}),
            dict(
                type='INENBBoxHead',
                in_channels=256,
                fc_out_channels=1024,
                roi_feat_size=7,
                num_classes=15,
                bbox_coder=dict(
                    type='DeltaXYWHAOBBoxCoder',
                    angle_range='le90',
                    norm_factor=None,
                    edge_swap=True,
                    proj_xy=True,
                    target_means=[0., 0., 0., 0., 0.],
                    target_stds=[0.05, 0.05, 0.1, 0.1, 0.5]),
                reg_class_agnostic=False,
                loss_bbox={{_base_.swin_tod_roi_loss_bbox}})
        ]),
    train_cfg=dict(rpn=dict(assigner={{_base_.swin_tod_rpn_assigner}})))

# SWIN-TOD on RoI Transformer R50-FPN le90 (INEN in both stages + receptive-field RPN + SWL),
# on the synthetic tiny-oriented dataset (vehicle, ship, plane, storage-tank).
_base_ = [
    './_base_/swin_tod_roi_trans_r50_fpn_le90.py',
    '../_base_/datasets/synthetic.py', '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py'
]
# The box heads restated whole: mmcv replaces lists instead of merging
# them.
model = dict(
    roi_head=dict(
        bbox_head=[
            dict(
                type='INENBBoxHead',
                in_channels=256,
                fc_out_channels=1024,
                roi_feat_size=7,
                num_classes=4,
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
                num_classes=4,
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
        ]))

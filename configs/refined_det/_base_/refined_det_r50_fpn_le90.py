# Refined-Det model (GRSL 2024): Rotated RetinaNet R50-FPN P3-P7 with one
# square anchor per location, FRHead and cross-grid label assignment (CLA)
# for both the coarse and the final outputs.
_base_ = ['../../_base_/models/rotated_retinanet_r50_fpn_le90.py']
model = dict(
    type='RefinedDet',
    bbox_head=dict(
        type='FRHead',
        anchor_generator=dict(
            type='RotatedAnchorGenerator',
            octave_base_scale=4,
            scales_per_octave=1,
            ratios=[1.0],
            strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(
            type='DeltaXYWHAOBBoxCoder',
            angle_range='le90',
            norm_factor=None,
            edge_swap=True,
            proj_xy=True,
            target_means=(.0, .0, .0, .0, .0),
            target_stds=(1.0, 1.0, 1.0, 1.0, 1.0)),
        loss_cls=dict(
            type='FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=1.0),
        loss_bbox=dict(
            _delete_=True, type='SmoothL1Loss', beta=0.11, loss_weight=1.0)),
    train_cfg=dict(
        assigner=dict(
            _delete_=True,
            type='CrossGridAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.4,
            min_pos_iou=0,
            ignore_iof_thr=-1,
            iou_calculator=dict(type='SparseRBboxOverlaps2D'),
            # The paper's cells until measured; 'nearest' is ours.
            cells='published',
            neighbour_thr=0.5,
            neighbour_axes='image',
            label_source='source')),
    test_cfg=dict(
        nms_pre=2000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(iou_thr=0.1),
        max_per_img=2000))

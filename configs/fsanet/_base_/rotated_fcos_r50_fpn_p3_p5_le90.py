# The Rotated FCOS baseline of FSANet: the same backbone, levels (P3-P5 from
# a plain FPN on C3-C5), regress ranges, tower depth, losses and test
# settings as _base_/fsanet_r50_le90.py, with mmrotate's RotatedFCOSHead
# (FCOS assignment on grid points, FCOS centerness, one box prediction)
# instead of SAGH and mmdet's FPN instead of FA2M.
_base_ = './fsanet_r50_le90.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='FPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        start_level=1,
        num_outs=3),
    bbox_head=dict(
        _delete_=True,
        type='RotatedFCOSHead',
        num_classes=15,
        in_channels=256,
        stacked_convs=3,
        feat_channels=256,
        strides=[8, 16, 32],
        regress_ranges=((-1, 64), (64, 128), (128, 1e8)),
        center_sampling=False,
        norm_on_bbox=False,
        centerness_on_reg=False,
        separate_angle=False,
        scale_angle=True,
        bbox_coder=dict(type='DistanceAnglePointCoder', angle_version='le90'),
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        loss_cls=dict(
            type='FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=1.0),
        loss_bbox=dict(type='RotatedIoULoss', loss_weight=1.0),
        loss_centerness=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)))

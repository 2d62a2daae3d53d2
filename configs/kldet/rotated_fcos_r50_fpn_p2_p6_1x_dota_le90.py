# The Rotated FCOS baseline that KLDet is compared with (bench/train_step.py
# group 'kldet'): the same backbone, FPN P2-P6 and KLD box loss, mmrotate's
# RotatedFCOSHead with its own assignment (regress ranges of P2-P6, centre
# sampling) and no receptive-field priors, Ali-TSM or task attention.
_base_ = './kldet_r50_fpn_1x_dota_le90.py'
model = dict(
    type='RotatedFCOS',
    bbox_head=dict(
        _delete_=True,
        type='RotatedFCOSHead',
        num_classes=15,
        in_channels=256,
        stacked_convs=4,
        feat_channels=256,
        strides=[4, 8, 16, 32, 64],
        regress_ranges=((-1, 32), (32, 64), (64, 128), (128, 256), (256,
                                                                    1e8)),
        center_sampling=True,
        center_sample_radius=1.5,
        norm_on_bbox=True,
        centerness_on_reg=True,
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
        loss_bbox=dict(type='KLDLoss', loss_weight=1.0),
        loss_centerness=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=None)

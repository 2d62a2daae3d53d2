# FSANet made oriented (Wu et al., IEEE TGRS 2022): ResNet-50, the FA2M neck
# (FeatureAlignFPN) on C3-C5 giving P3-P5 and the oriented SAGH head
# (SpatialAwareGuidanceHead) in mmrotate's single-stage RotatedFCOS
# detector, le90. The model part shared by configs/fsanet (angle_version
# comes with the dataset configs).
model = dict(
    type='RotatedFCOS',
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        zero_init_residual=False,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    # P3-P5 only, as the paper (strides 8/16/32).
    neck=dict(
        type='FeatureAlignFPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        start_level=1,
        num_outs=3),
    bbox_head=dict(
        type='SpatialAwareGuidanceHead',
        num_classes=15,
        in_channels=256,
        stacked_convs=3,
        feat_channels=256,
        strides=[8, 16, 32],
        regress_ranges=((-1, 64), (64, 128), (128, 1e8)),
        dcn_kernel=3,
        deform_groups=4,
        # The paper's learned offsets; 'geometric' (AlignConv on the coarse
        # rotated box) is our variant.
        offset_mode='learned',
        detach_offset_input=False,
        scale_angle=True,
        bbox_coder=dict(type='DistanceAnglePointCoder', angle_version='le90'),
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        loss_cls=dict(
            type='FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=1.0),
        # -ln(rotated IoU), the paper's IoU loss made rotated (mmrotate's
        # RotatedIoULoss; rotated_tod runs it on the CPU too). Refined 1.0,
        # coarse 0.2, both weighted by the Gaussian centerness.
        loss_bbox=dict(type='RotatedIoULoss', loss_weight=1.0),
        loss_bbox_coarse=dict(type='RotatedIoULoss', loss_weight=0.2),
        loss_centerness=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=None,
    # The paper's test settings, kept for DOTA: class probability > 0.10
    # before it is multiplied by the centerness (mmrotate's
    # multiclass_nms_rotated thresholds the raw probability), 3000
    # candidates per level, linear soft-NMS at IoU 0.5 (rotated IoU here),
    # 1500 detections per image (DOTA patches rarely hold more objects).
    test_cfg=dict(
        nms_pre=3000,
        min_bbox_size=0,
        score_thr=0.10,
        nms=dict(type='soft_rotated', iou_thr=0.5, method='linear',
                 min_score=1e-3),
        max_per_img=1500))

# KLDet made oriented ("KLDet: Detecting Tiny Objects in Remote Sensing
# Images via Kullback-Leibler Divergence"): ResNet-50 FPN P2-P6, rotated
# FCOS-style head with receptive-field priors (fraction 0.5 of the TRF computed
# from the backbone), Ali-TSM assignment and task-level attention, le90.
# The model part shared by the configs of configs/kldet (angle_version
# comes with the dataset configs).
model = dict(
    type='KLDet',
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
    neck=dict(
        type='FPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        start_level=0,
        add_extra_convs='on_output',
        num_outs=5,
        relu_before_extra_convs=True),
    bbox_head=dict(
        type='KLDetHead',
        num_classes=15,
        in_channels=256,
        stacked_convs=4,
        feat_channels=256,
        strides=[4, 8, 16, 32, 64],
        # The backbone of the receptive fields is the detector's own (KLDet).
        prior_generator=dict(type='ReceptiveFieldPriorGenerator', fraction=0.5),
        task_attention=dict(type='TaskLevelAttention', ratio=4),
        scale_angle=True,
        bbox_coder=dict(type='DistanceAnglePointCoder', angle_version='le90'),
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        loss_cls=dict(
            type='FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=1.0),
        # KLD between the decoded and GT Gaussians (rotated_tod's KLDLoss,
        # KL(target || pred), mmrotate GDLoss('kld') post-processing);
        # mmrotate's RotatedIoULoss has no CPU kernel.
        loss_bbox=dict(type='KLDLoss', loss_weight=1.0),
        loss_centerness=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=dict(
        assigner=dict(
            type='AliTSMAssigner',
            topk=(3, 1),
            ratio=0.9,
            alpha=1.0,
            beta=7.0,
            alpha_m=0.75,
            neg_thr=0.8,
            overlap_calculator=dict(type='SparseRBboxOverlaps2D'),
            # Stage 2 among the priors whose shrunk box overlaps the GT
            # (ours); 'global' is the paper's rule, over the whole image.
            stage2='local')),
    test_cfg=dict(
        nms_pre=2000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(iou_thr=0.1),
        max_per_img=2000))

# Rotated task-aligned detector (TOOD made oriented; our design, see
# rotated_tod.models.dense_heads.RotatedTOODHead): ResNet-50, FPN P3-P7,
# task-aligned head with distance+angle boxes, ATSS for the first epochs then
# task-aligned assignment on rotated IoU, quality focal loss, KLD box loss.
# TOOD's settings (stacked convs 6, ATSS top-k 9, TAL top-k 13, alpha 1,
# beta 6, prior scale 8). The model part shared by configs/afmnet; the
# dataset configs give angle_version and num_classes.
model = dict(
    type='RotatedTOOD',
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(
        type='FPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        start_level=1,
        add_extra_convs='on_output',
        num_outs=5),
    bbox_head=dict(
        type='RotatedTOODHead',
        num_classes=15,
        in_channels=256,
        feat_channels=256,
        stacked_convs=6,
        strides=[8, 16, 32, 64, 128],
        prior_scale=8.0,
        bbox_coder=dict(type='DistanceAnglePointCoder', angle_version='le90'),
        norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
        loss_cls=dict(
            type='QualityFocalLoss',
            use_sigmoid=True,
            activated=True,
            beta=2.0,
            loss_weight=1.0),
        # KL(target || pred) of the Gaussians (mmrotate's RotatedIoULoss has
        # no CPU kernel); weight 2 like TOOD's GIoU loss.
        loss_bbox=dict(type='KLDLoss', loss_weight=2.0)),
    train_cfg=dict(
        initial_epoch=4,
        initial_assigner=dict(
            type='RotatedATSSAssigner',
            topk=9,
            iou_calculator=dict(type='SparseRBboxOverlaps2D')),
        assigner=dict(
            type='RotatedTaskAlignedAssigner',
            topk=13,
            alpha=1.0,
            beta=6.0,
            iou_calculator=dict(type='SparseRBboxOverlaps2D'))),
    test_cfg=dict(
        nms_pre=2000,
        min_bbox_size=0,
        score_thr=0.05,
        nms=dict(iou_thr=0.1),
        max_per_img=2000))
# Gives the heads the runner's epoch / iteration (the ATSS -> task-aligned
# switch, also after a resume).
custom_hooks = [dict(type='TrainProgressHook')]

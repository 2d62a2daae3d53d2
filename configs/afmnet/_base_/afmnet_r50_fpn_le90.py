# AFMNet made oriented (our design after the published outline, see
# rotated_tod.models.detectors.AFMNet): the rotated task-aligned detector plus
# a stride-4 head on P2 (FPN from C2: lateral + top-down), rotated-ellipse
# mask branch at strides 8 and 16 re-weighting those levels, fine-grained
# mining (top-13) and RoI interaction in both heads, the two heads' detections
# fused by rotated NMS. Assignment as AFMNet's public config: ATSS top-k 4 for
# the first 4 epochs, then task-aligned top-k 3, alpha 1, beta 7. No CARAFE
# (no CPU kernel in mmcv 1.x).
_base_ = './rotated_tood_r50_fpn_le90.py'
afmnet_head = dict(
    type='RotatedTOODHead',
    num_classes=15,
    in_channels=256,
    feat_channels=256,
    stacked_convs=6,
    prior_scale=8.0,
    bbox_coder=dict(type='DistanceAnglePointCoder', angle_version='le90'),
    norm_cfg=dict(type='GN', num_groups=32, requires_grad=True),
    mining=dict(type='FineGrainedMining', topk=13, num_heads=8),
    interaction=dict(
        type='RoIInteraction',
        num_rois=100,
        embed_dims=256,
        out_size=7,
        num_heads=8),
    loss_cls=dict(
        type='QualityFocalLoss',
        use_sigmoid=True,
        activated=True,
        beta=2.0,
        loss_weight=1.0),
    loss_bbox=dict(type='KLDLoss', loss_weight=2.0))
afmnet_test_settings = dict(
    nms_pre=2000,
    min_bbox_size=0,
    score_thr=0.05,
    nms=dict(iou_thr=0.1),
    max_per_img=2000)
model = dict(
    type='AFMNet',
    neck=dict(start_level=0, num_outs=6),
    bbox_head=dict(afmnet_head, strides=[8, 16, 32, 64, 128]),
    small_head=dict(afmnet_head, strides=[4]),
    mask_branch=dict(
        type='EllipseMaskBranch',
        strides=[8, 16],
        feat_channels=64,
        target='binary',
        loss_mask=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)),
    train_cfg=dict(
        initial_assigner=dict(topk=4),
        assigner=dict(topk=3, alpha=1.0, beta=7.0)),
    test_cfg=dict(
        afmnet_test_settings,
        small_head=dict(afmnet_test_settings, nms_pre=3000),
        fusion=dict(nms=dict(iou_thr=0.1), max_per_img=2000)))
# Only `model` keeps them.
del afmnet_head, afmnet_test_settings

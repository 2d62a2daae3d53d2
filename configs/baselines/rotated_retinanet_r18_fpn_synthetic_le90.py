# The demo detector (`make demo`): a small Rotated RetinaNet trained from
# scratch on the synthetic tiny-oriented dataset in a few CPU minutes
# (300 iterations of 4 patches: about 7.5 min on 2 cores; synthetic mAP 0.76
# trained on the synthetic scenes alone, about 0.3 with the demo's harbour
# region mixed in: see the README).
# ResNet-18 at half width, FPN P3-P6 with anchors sized for 6-64 px objects,
# BN in training mode and GN in the head (no pretrained statistics to keep),
# AdamW (converges in a few hundred iterations from scratch).
# The demo also trains it on the harbour region, whose labels cover ships
# only: its head ignores the other classes' classification loss there.
_base_ = [
    '../_base_/models/rotated_retinanet_r50_fpn_le90.py',
    '../_base_/datasets/synthetic.py', '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(
        depth=18,
        base_channels=32,
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=None),
    neck=dict(
        in_channels=[32, 64, 128, 256],
        out_channels=64,
        start_level=1,
        num_outs=4),
    bbox_head=dict(
        # RotatedRetinaHead that also trains on images labelled for some
        # classes only (the demo's harbour region labels ships only)
        type='PartialLabelRotatedRetinaHead',
        num_classes=4,
        in_channels=64,
        feat_channels=64,
        stacked_convs=2,
        norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
        anchor_generator=dict(
            octave_base_scale=2,
            scales_per_octave=2,
            ratios=[1.0, 0.5, 2.0],
            strides=[8, 16, 32, 64]),
        loss_bbox=dict(type='SmoothL1Loss', beta=0.11, loss_weight=1.0)),
    train_cfg=dict(
        assigner=dict(pos_iou_thr=0.4, neg_iou_thr=0.3, min_pos_iou=0.1)),
    test_cfg=dict(nms_pre=1000, score_thr=0.05, max_per_img=500))
data = dict(samples_per_gpu=4, workers_per_gpu=1)
optimizer = dict(type='AdamW', lr=0.002, weight_decay=0.05)
optimizer_config = dict(grad_clip=dict(max_norm=10, norm_type=2))
lr_config = dict(
    policy='CosineAnnealing',
    warmup='linear',
    warmup_iters=50,
    warmup_ratio=0.1,
    min_lr_ratio=0.05,
    by_epoch=False)
runner = dict(type='IterBasedRunner', max_iters=300)
checkpoint_config = dict(interval=50, by_epoch=False, max_keep_ckpts=2)
log_config = dict(interval=20, hooks=[dict(type='TextLoggerHook')])
evaluation = dict(interval=300, metric='mAP', by_epoch=False)

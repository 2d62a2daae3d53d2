# Refined-Det on DOTA-v1.0 tested with flip test-time augmentation: the
# original, horizontally and vertically flipped views, merged by
# RefinedDet.aug_test (boxes flipped back, per-class rotated NMS).
_base_ = ['./refined_det_r50_fpn_1x_dota_le90.py']
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiScaleFlipAug',
        img_scale=(1024, 1024),
        flip=True,
        flip_direction=['horizontal', 'vertical'],
        transforms=[
            dict(type='RResize'),
            dict(type='RRandomFlip', version='le90'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='Pad', size_divisor=32),
            dict(type='DefaultFormatBundle'),
            dict(type='Collect', keys=['img'])
        ])
]
data = dict(test=dict(pipeline=test_pipeline))

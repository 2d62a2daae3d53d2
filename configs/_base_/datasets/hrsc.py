# HRSC2016 converted to the DOTA layout by
# tools/data/hrsc/convert.py data/HRSC2016 data/hrsc (one class: ship).
dataset_type = 'DOTAPolyDataset'
data_root = 'data/hrsc/'
angle_version = 'le90'
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RResize', img_scale=(800, 512)),
    dict(
        type='RRandomFlip',
        flip_ratio=[0.25, 0.25, 0.25],
        direction=['horizontal', 'vertical', 'diagonal'],
        version=angle_version),
    dict(
        type='PolyRandomRotate',
        rotate_ratio=0.5,
        angles_range=180,
        auto_bound=False,
        version=angle_version),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels'])
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiScaleFlipAug',
        img_scale=(800, 512),
        flip=False,
        transforms=[
            dict(type='RResize'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='Pad', size_divisor=32),
            dict(type='DefaultFormatBundle'),
            dict(type='Collect', keys=['img'])
        ])
]
data = dict(
    samples_per_gpu=2,
    workers_per_gpu=2,
    train=dict(
        type=dataset_type,
        classes=('ship', ),
        ann_file=data_root + 'trainval/labelTxt/',
        img_prefix=data_root + 'trainval/images/',
        img_suffix='.bmp',
        version=angle_version,
        pipeline=train_pipeline),
    val=dict(
        type=dataset_type,
        classes=('ship', ),
        ann_file=data_root + 'test/labelTxt/',
        img_prefix=data_root + 'test/images/',
        img_suffix='.bmp',
        version=angle_version,
        pipeline=test_pipeline),
    test=dict(
        type=dataset_type,
        classes=('ship', ),
        ann_file=data_root + 'test/labelTxt/',
        img_prefix=data_root + 'test/images/',
        img_suffix='.bmp',
        version=angle_version,
        pipeline=test_pipeline))
# mAP: AP50 (VOC07) with recall by size; hrsc: AP50_07, AP50_12, AP75_12, AP50_95
evaluation = dict(interval=12, metric=['mAP', 'hrsc'])

# The synthetic tiny-oriented dataset (rotated_tod.datasets.synthetic), made by
#   python tools/data/make_synthetic.py data/synthetic
# which writes full scenes to data/synthetic/{train,val}/ and their 512 x 512
# patches (gap 128) to data/synthetic/split/{train,val}/.
dataset_type = 'SyntheticTinyDataset'
data_root = 'data/synthetic/'
angle_version = 'le90'
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RResize', img_scale=(512, 512)),
    dict(
        type='RRandomFlip',
        flip_ratio=[0.25, 0.25, 0.25],
        direction=['horizontal', 'vertical', 'diagonal'],
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
        img_scale=(512, 512),
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
        ann_file=data_root + 'split/train/annfiles/',
        img_prefix=data_root + 'split/train/images/',
        version=angle_version,
        pipeline=train_pipeline),
    val=dict(
        type=dataset_type,
        ann_file=data_root + 'split/val/annfiles/',
        img_prefix=data_root + 'split/val/images/',
        full_ann_dir=data_root + 'val/labelTxt/',
        filter_empty_gt=False,
        version=angle_version,
        pipeline=test_pipeline),
    test=dict(
        type=dataset_type,
        ann_file=data_root + 'split/val/annfiles/',
        img_prefix=data_root + 'split/val/images/',
        full_ann_dir=data_root + 'val/labelTxt/',
        filter_empty_gt=False,
        version=angle_version,
        pipeline=test_pipeline))
evaluation = dict(interval=1, metric='mAP')

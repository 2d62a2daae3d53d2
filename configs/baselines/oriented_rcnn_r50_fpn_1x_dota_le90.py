# Oriented R-CNN R50-FPN le90 (mmrotate's baseline) on DOTA-v1.0 single scale (1024 patches).
_base_ = [
    '../_base_/models/oriented_rcnn_r50_fpn_le90.py',
    '../_base_/datasets/dotav1.py', '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py'
]
optimizer = dict(lr=0.005)

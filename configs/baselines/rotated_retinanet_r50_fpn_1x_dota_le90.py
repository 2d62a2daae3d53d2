_base_ = [
    '../_base_/models/rotated_retinanet_r50_fpn_le90.py',
    '../_base_/datasets/dotav1.py', '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py'
]

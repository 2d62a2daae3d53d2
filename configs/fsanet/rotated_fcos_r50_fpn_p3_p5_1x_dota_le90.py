# FSANet's baseline: Rotated FCOS, R50-FPN P3-P5, DOTA-v1.0 single scale.
_base_ = [
    './_base_/rotated_fcos_r50_fpn_p3_p5_le90.py',
    '../_base_/datasets/dotav1.py', '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py'
]

# FSANet's baseline: Rotated FCOS, R50-FPN P3-P5, HRSC2016 (one class).
_base_ = [
    './_base_/rotated_fcos_r50_fpn_p3_p5_le90.py', '../_base_/datasets/hrsc.py',
    '../_base_/schedules/schedule_6x.py', '../_base_/default_runtime.py'
]
model = dict(bbox_head=dict(num_classes=1))

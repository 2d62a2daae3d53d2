# FSANet (FA2M + SAGH), R50, P3-P5, HRSC2016 (one class).
_base_ = [
    './_base_/fsanet_r50_le90.py', '../_base_/datasets/hrsc.py',
    '../_base_/schedules/schedule_6x.py', '../_base_/default_runtime.py'
]
model = dict(bbox_head=dict(num_classes=1))

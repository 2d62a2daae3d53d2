# Refined-Det on HRSC2016: 800x512, flips + random rotation, 72 epochs
# (lr steps 48, 66).
_base_ = [
    './_base_/refined_det_r50_fpn_le90.py', '../_base_/datasets/hrsc.py',
    '../_base_/schedules/schedule_6x.py', '../_base_/default_runtime.py'
]
model = dict(bbox_head=dict(num_classes=1))

# Refined-Det on the synthetic tiny-oriented dataset (4 classes, 512 patches).
_base_ = [
    './_base_/refined_det_r50_fpn_le90.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
model = dict(bbox_head=dict(num_classes=4))

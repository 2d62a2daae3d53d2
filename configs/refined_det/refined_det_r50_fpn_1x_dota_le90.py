# Refined-Det on DOTA-v1.0, single-scale 1024 patches, 12 epochs.
_base_ = [
    './_base_/refined_det_r50_fpn_le90.py', '../_base_/datasets/dotav1.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]

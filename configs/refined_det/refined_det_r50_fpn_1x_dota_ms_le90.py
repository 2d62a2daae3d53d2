# Refined-Det on DOTA-v1.0, multi-scale split (rates 0.5/1.0/1.5) with random
# rotation, 12 epochs.
_base_ = [
    './_base_/refined_det_r50_fpn_le90.py', '../_base_/datasets/dotav1_ms.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]

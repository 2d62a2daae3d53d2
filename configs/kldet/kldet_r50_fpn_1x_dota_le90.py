# KLDet (RF priors + Ali-TSM + TlA), R50-FPN P2-P6, DOTA-v1.0 single scale.
_base_ = [
    './_base_/kldet_r50_fpn_le90.py', '../_base_/datasets/dotav1.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]

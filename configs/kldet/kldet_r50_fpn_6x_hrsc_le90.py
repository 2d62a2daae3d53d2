# KLDet (RF priors + Ali-TSM + TlA), R50-FPN P2-P6, HRSC2016 (one class).
_base_ = [
    './_base_/kldet_r50_fpn_le90.py', '../_base_/datasets/hrsc.py',
    '../_base_/schedules/schedule_6x.py', '../_base_/default_runtime.py'
]
model = dict(bbox_head=dict(num_classes=1))

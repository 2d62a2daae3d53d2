# KLDet (RF priors + Ali-TSM + TlA), R50-FPN P2-P6, the synthetic tiny-oriented
# dataset (vehicle, ship, plane, storage-tank).
_base_ = [
    './_base_/kldet_r50_fpn_le90.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
model = dict(bbox_head=dict(num_classes=4))

# SWIN-TOD on Oriented R-CNN R50-FPN le90 (INEN + receptive-field RPN + SWL),
# on DOTA-v1.0 multi-scale (rates 0.5/1.0/1.5).
_base_ = [
    './_base_/swin_tod_oriented_rcnn_r50_fpn_le90.py',
    '../_base_/datasets/dotav1_ms.py', '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py'
]
optimizer = dict(lr=0.005)

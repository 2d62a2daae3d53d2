# SWIN-TOD on Oriented R-CNN R50-FPN le90 (INEN + receptive-field RPN + SWL),
# on HRSC2016 (one class, 72 epochs).
_base_ = [
    './_base_/swin_tod_oriented_rcnn_r50_fpn_le90.py',
    '../_base_/datasets/hrsc.py', '../_base_/schedules/schedule_6x.py',
    '../_base_/default_runtime.py'
]
optimizer = dict(lr=0.005)
model = dict(roi_head=dict(bbox_head=dict(num_classes=1)))

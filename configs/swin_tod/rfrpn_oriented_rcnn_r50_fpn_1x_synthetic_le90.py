# Ablation: Oriented R-CNN R50-FPN le90 + receptive-field RPN only,
# on the synthetic tiny-oriented dataset (vehicle, ship, plane, storage-tank).
_base_ = [
    './_base_/rfrpn_oriented_rcnn_r50_fpn_le90.py',
    '../_base_/datasets/synthetic.py', '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py'
]
optimizer = dict(lr=0.005)
model = dict(roi_head=dict(bbox_head=dict(num_classes=4)))

_base_ = [
    './_base_/rotated_retinanet_swl_r50_fpn_le90.py',
    '../_base_/datasets/hrsc.py', '../_base_/schedules/schedule_6x.py',
    '../_base_/default_runtime.py'
]
model = dict(bbox_head=dict(num_classes=1))

# The synthetic tiny-oriented dataset: vehicle, ship, plane, storage-tank.
# Tiny objects: NMS by NWD too (suppress when exp(-W2 / 12.8) > 0.5, i.e.
# boxes within 8.9 px in W2), where rotated IoU misses duplicates that are a
# few pixels apart.
_base_ = [
    './_base_/rotated_retinanet_nwd_r50_fpn_le90.py',
    '../_base_/datasets/synthetic.py', '../_base_/schedules/schedule_1x.py',
    '../_base_/default_runtime.py'
]
model = dict(
    bbox_head=dict(num_classes=4),
    test_cfg=dict(nms=dict(type='gaussian', metric='nwd', iou_thr=0.5)))

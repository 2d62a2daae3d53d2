# FSANet (FA2M + SAGH), R50, P3-P5, the synthetic tiny-oriented dataset
# (vehicle, ship, plane, storage-tank).
_base_ = [
    './_base_/fsanet_r50_le90.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
model = dict(bbox_head=dict(num_classes=4))

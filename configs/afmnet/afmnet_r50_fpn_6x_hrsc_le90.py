# AFMNet made oriented (our design after the published outline), R50-FPN, HRSC2016 (one class).
_base_ = [
    './_base_/afmnet_r50_fpn_le90.py', '../_base_/datasets/hrsc.py',
    '../_base_/schedules/schedule_6x.py', '../_base_/default_runtime.py'
]
# ATSS for the first 12 of 72 epochs.
model = dict(
    bbox_head=dict(num_classes=1),
    small_head=dict(num_classes=1),
    train_cfg=dict(initial_epoch=12))

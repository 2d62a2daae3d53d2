# AFMNet made oriented (our design after the published outline), R50-FPN, DOTA-v1.0 single scale.
_base_ = [
    './_base_/afmnet_r50_fpn_le90.py', '../_base_/datasets/dotav1.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]

# FSANet (FA2M + SAGH), R50, P3-P5, DOTA-v1.0 single scale.
_base_ = [
    './_base_/fsanet_r50_le90.py', '../_base_/datasets/dotav1.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]

# Rotated task-aligned detector (TOOD made oriented, our design), R50-FPN, the synthetic tiny-oriented dataset.
_base_ = [
    './_base_/rotated_tood_r50_fpn_le90.py', '../_base_/datasets/synthetic.py',
    '../_base_/schedules/schedule_1x.py', '../_base_/default_runtime.py'
]
# The ATSS phase counted in iterations (the leaderboard trains by iterations
# and keeps only `model`; without TrainProgressHook the head counts its own
# training steps).
model = dict(
    bbox_head=dict(num_classes=4),
    train_cfg=dict(initial_epoch=0, initial_iter=100))

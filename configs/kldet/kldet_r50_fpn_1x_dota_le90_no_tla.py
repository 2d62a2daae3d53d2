# Ablation: receptive-field priors + Ali-TSM, without task-level attention.
_base_ = './kldet_r50_fpn_1x_dota_le90.py'
model = dict(bbox_head=dict(task_attention=None))

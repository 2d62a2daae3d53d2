# AFMNet ablation: without the stride-4 head (FPN P3-P7 as the baseline; no
# fusion at test).
_base_ = './afmnet_r50_fpn_1x_dota_le90.py'
model = dict(
    neck=dict(start_level=1, num_outs=5),
    small_head=None,
    test_cfg=dict(small_head=None, fusion=None))

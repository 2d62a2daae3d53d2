# Ablation: SAGH only, i.e. FSANet with mmdet's plain FPN (P3-P5) instead of
# FA2M.
_base_ = './fsanet_r50_1x_dota_le90.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='FPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        start_level=1,
        num_outs=3))

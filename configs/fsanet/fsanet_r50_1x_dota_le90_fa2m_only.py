# Ablation: FA2M only, i.e. the Rotated FCOS baseline with the FPN replaced by
# FA2M (FeatureAlignFPN, P3-P5).
_base_ = './rotated_fcos_r50_fpn_p3_p5_1x_dota_le90.py'
model = dict(
    neck=dict(
        _delete_=True,
        type='FeatureAlignFPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        start_level=1,
        num_outs=3))

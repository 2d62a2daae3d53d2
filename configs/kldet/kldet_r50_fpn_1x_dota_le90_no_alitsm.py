# Ablation: task-level attention without Ali-TSM: the rotated FCOS assignment
# (inside the GT, regress ranges of P2-P6, centre sampling 1.5 strides).
_base_ = './kldet_r50_fpn_1x_dota_le90.py'
model = dict(
    bbox_head=dict(
        center_sampling=True,
        center_sample_radius=1.5,
        regress_ranges=((-1, 32), (32, 64), (64, 128), (128, 256), (256,
                                                                    1e8))),
    train_cfg=None)

# FSANet with P2-P6 for tiny objects (our variant): FA2M from C2 (stride 4)
# and one extra level P6 (a stride-2 3x3 conv on the P5 output, as mmdet's
# FPN 'on_output'), SAGH on five levels with the ranges of the P2-P6 Rotated FCOS
# of configs/kldet. DOTA-v1.0 single scale.
_base_ = './fsanet_r50_1x_dota_le90.py'
model = dict(
    neck=dict(
        start_level=0,
        add_extra_convs='on_output',
        relu_before_extra_convs=True,
        num_outs=5),
    bbox_head=dict(
        strides=[4, 8, 16, 32, 64],
        regress_ranges=((-1, 32), (32, 64), (64, 128), (128, 256), (256,
                                                                    1e8))))

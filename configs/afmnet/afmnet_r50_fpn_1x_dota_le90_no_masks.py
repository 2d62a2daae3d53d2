# AFMNet ablation: without the mask branch (mining guided by class scores).
_base_ = './afmnet_r50_fpn_1x_dota_le90.py'
model = dict(mask_branch=None)

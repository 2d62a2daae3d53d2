# AFMNet ablation: without fine-grained mining in both heads.
_base_ = './afmnet_r50_fpn_1x_dota_le90.py'
model = dict(bbox_head=dict(mining=None), small_head=dict(mining=None))

# KLDet with the paper's literal Ali-TSM stage 2: each GT's extra positive is
# ranked over all the image's priors, not only those whose shrunk box
# overlaps it.
_base_ = ['./kldet_r50_fpn_1x_synthetic_le90.py']
model = dict(train_cfg=dict(assigner=dict(stage2='global')))

# "CLA only" with our cross-grid cells: the three anchors nearest to the GT
# centre among the four around it, instead of the paper's cell holding the
# centre (anchor at its corner) and its neighbours on the centre's side.
_base_ = ['./cla_rotated_retinanet_r50_fpn_1x_synthetic_le90.py']
model = dict(train_cfg=dict(assigner=dict(cells='nearest')))

# Refined-Det with our cross-grid cells (CLA's cells before the published
# rule was restored): the three anchors nearest to the GT centre among the
# four around it, instead of the paper's cell holding the centre (anchor at
# its corner) and its neighbours on the centre's side.
_base_ = ['./refined_det_r50_fpn_1x_synthetic_le90.py']
model = dict(train_cfg=dict(assigner=dict(cells='nearest')))

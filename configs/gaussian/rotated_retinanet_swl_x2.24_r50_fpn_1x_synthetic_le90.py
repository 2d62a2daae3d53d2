# The smooth Wasserstein loss row with loss_weight sqrt(5) ~ 2.24: beyond
# beta, the Huber loss on the norm of the 5-d delta vector has a gradient of
# norm 1 per box, the baseline's L1 on the same deltas one of norm up to
# sqrt(5) (all five deltas off). This row gives SWL the baseline's gradient
# scale when every delta is off, to tell the loss's shape from its scale.
_base_ = './rotated_retinanet_swl_r50_fpn_1x_synthetic_le90.py'
model = dict(bbox_head=dict(loss_bbox=dict(loss_weight=2.24)))

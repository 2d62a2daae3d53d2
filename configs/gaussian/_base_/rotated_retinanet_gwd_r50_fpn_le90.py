# Rotated RetinaNet R50-FPN le90 with the Gaussian Wasserstein distance as
# the regression loss, as published (Yang et al., ICML 2021) and in mmrotate's
# GWD configs: GWD loss on decoded boxes (log1p of the normalised W2, tau 0,
# weight 5); assignment stays the base model's rotated-IoU max-IoU, so this
# config changes the loss only (assignment by a Gaussian metric is the NWD
# config). Rotated-IoU NMS.
_base_ = '../../_base_/models/rotated_retinanet_r50_fpn_le90.py'
model = dict(
    bbox_head=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(
            _delete_=True,
            type='GWDLoss',
            normalize=True,
            fun='log1p',
            tau=0.0,
            loss_weight=5.0)))

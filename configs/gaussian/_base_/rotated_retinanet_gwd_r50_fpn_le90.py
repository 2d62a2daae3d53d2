# Rotated RetinaNet R50-FPN le90 with the Gaussian Wasserstein distance:
# GWD loss on decoded boxes (mmrotate's GWD setting: log1p of the normalised
# W2, tau 0, weight 5) and assignment by the Wasserstein distance through its
# normalised similarity exp(-W2 / 12.8) (raw GWD is in px^2, so no fixed
# IoU-like threshold fits it). Rotated-IoU NMS.
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
            loss_weight=5.0)),
    train_cfg=dict(
        assigner=dict(
            iou_calculator=dict(type='RBboxGaussianOverlaps2D',
                                metric='nwd'))))

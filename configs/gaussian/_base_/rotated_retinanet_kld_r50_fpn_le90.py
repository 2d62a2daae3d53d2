# Rotated RetinaNet R50-FPN le90 with the Kullback-Leibler divergence:
# KLD loss on decoded boxes (mmrotate's KLD setting: KL(target || pred),
# square-rooted, 1 - 1 / (1 + log1p(.)), weight 1) and assignment by
# 1 / (1 + KL(gt || anchor)) with the usual 0.5 / 0.4 thresholds (KL <= 1 is
# positive). Rotated-IoU NMS.
_base_ = '../../_base_/models/rotated_retinanet_r50_fpn_le90.py'
model = dict(
    bbox_head=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(
            _delete_=True,
            type='KLDLoss',
            direction='target_pred',
            fun='log1p',
            tau=1.0,
            loss_weight=1.0)),
    train_cfg=dict(
        assigner=dict(
            iou_calculator=dict(type='RBboxGaussianOverlaps2D',
                                metric='kld'))))

# Rotated RetinaNet R50-FPN le90 with the Kullback-Leibler divergence as the
# regression loss, as published (Yang et al., NeurIPS 2021) and in mmrotate's
# KLD configs: KLD loss on decoded boxes (KL(target || pred), square-rooted,
# 1 - 1 / (1 + log1p(.)), weight 1); assignment stays the base model's
# rotated-IoU max-IoU, so this config changes the loss only. Rotated-IoU NMS.
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
            loss_weight=1.0)))

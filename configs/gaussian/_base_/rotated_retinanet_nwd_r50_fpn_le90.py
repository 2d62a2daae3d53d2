# Rotated RetinaNet R50-FPN le90 with the normalised Wasserstein distance
# (NWD = exp(-W2 / 12.8), full rotated covariances): loss 1 - NWD on decoded
# boxes and assignment by NWD with the usual 0.5 / 0.4 thresholds. The loss
# weight is untuned. Rotated-IoU NMS here; the tiny-object dataset config
# switches to NWD NMS.
_base_ = '../../_base_/models/rotated_retinanet_r50_fpn_le90.py'
model = dict(
    bbox_head=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(
            _delete_=True, type='NWDLoss', C=12.8, loss_weight=1.0)),
    train_cfg=dict(
        assigner=dict(
            iou_calculator=dict(type='RBboxGaussianOverlaps2D',
                                metric='nwd', C=12.8))))

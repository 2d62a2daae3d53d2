# Rotated RetinaNet R50-FPN le90 with SWIN-TOD's smooth Wasserstein loss
# (Huber on W2 with beta = 1 px, see docs/methods.md) on decoded boxes,
# passed through log1p so that the pixel-valued loss of large objects stays
# bounded (weight untuned). Assignment and NMS by rotated IoU, as the
# baseline.
_base_ = '../../_base_/models/rotated_retinanet_r50_fpn_le90.py'
model = dict(
    bbox_head=dict(
        reg_decoded_bbox=True,
        loss_bbox=dict(
            _delete_=True,
            type='SmoothWassersteinLoss',
            beta=1.0,
            fun='log1p',
            tau=0.0,
            loss_weight=1.0)))

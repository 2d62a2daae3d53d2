# Rotated RetinaNet R50-FPN le90 with SWIN-TOD's smooth Wasserstein loss in
# its delta form (the SWIN-TOD configs' swap of the box loss): Huber on the
# L2 norm of the encoded delta vector in place of the baseline's L1 on the
# same deltas (reg_decoded_bbox=False), beta 0.11 (RetinaNet's SmoothL1
# beta). Assignment and NMS by rotated IoU, as the baseline.
_base_ = '../../_base_/models/rotated_retinanet_r50_fpn_le90.py'
model = dict(
    bbox_head=dict(
        reg_decoded_bbox=False,
        loss_bbox=dict(
            _delete_=True,
            type='SmoothWassersteinLoss',
            space='delta',
            beta=0.11,
            loss_weight=1.0)))

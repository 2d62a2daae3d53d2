# Ablation "FRHead only": Refined-Det's head with plain max-IoU assignment
# (no cross-grid positives) in both stages.
_base_ = ['./refined_det_r50_fpn_1x_dota_le90.py']
model = dict(
    train_cfg=dict(
        assigner=dict(
            _delete_=True,
            type='MaxIoUAssigner',
            pos_iou_thr=0.5,
            neg_iou_thr=0.4,
            min_pos_iou=0,
            ignore_iof_thr=-1,
            iou_calculator=dict(type='SparseRBboxOverlaps2D'))))

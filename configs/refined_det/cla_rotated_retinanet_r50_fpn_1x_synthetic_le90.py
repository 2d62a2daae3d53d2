# Ablation "CLA only" on the synthetic tiny-oriented dataset (4 classes):
# Rotated RetinaNet with one square anchor per location trained with
# cross-grid label assignment (the paper's cells), no FRHead.
_base_ = ['./refined_det_r50_fpn_1x_synthetic_le90.py']
model = dict(type='RotatedRetinaNet', bbox_head=dict(type='CrossGridRetinaHead'))

# Ablation "CLA only": Rotated RetinaNet (one square anchor per location,
# SmoothL1) trained with cross-grid label assignment, no FRHead.
_base_ = ['./refined_det_r50_fpn_1x_dota_le90.py']
model = dict(type='RotatedRetinaNet', bbox_head=dict(type='CrossGridRetinaHead'))

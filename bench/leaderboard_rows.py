# ruff: noqa: E501  (config paths are long; one entry per line reads best)
"""The rows of the method leaderboard (``bench/leaderboard.py``).

One entry per row:

- ``name``: the row's display name (unique; ``--only NAME`` selects it);
- ``config``: the repository-relative path of the method's synthetic config
  (its DOTA config where it has none); the leaderboard keeps only its
  ``model``, sets the suite's number of classes and imposes one common budget
  (backbone, widths, image size, batch, schedule, iterations, data, seed);
- ``baseline``: the ``name`` of the row it is compared with (``None`` for a
  baseline);
- ``seeds``: 2 for baselines and full methods, 1 for ablations;
- ``group``: the family the row belongs to (the chart groups by it).

Adding a method is adding one entry here.
"""

ROWS = [
    dict(
        name='Rotated RetinaNet',
        config='configs/baselines/rotated_retinanet_r50_fpn_1x_dota_le90.py',
        baseline=None,
        seeds=2,
        group='retinanet'),
    dict(
        name='+ GWD loss',
        config='configs/gaussian/rotated_retinanet_gwd_r50_fpn_1x_synthetic_le90.py',
        baseline='Rotated RetinaNet',
        seeds=2,
        group='retinanet'),
    dict(
        name='+ KLD loss',
        config='configs/gaussian/rotated_retinanet_kld_r50_fpn_1x_synthetic_le90.py',
        baseline='Rotated RetinaNet',
        seeds=2,
        group='retinanet'),
    dict(
        name='+ NWD (assignment)',
        config='configs/gaussian/rotated_retinanet_nwd_r50_fpn_1x_synthetic_le90.py',
        baseline='Rotated RetinaNet',
        seeds=2,
        group='retinanet'),
    dict(
        name='+ smooth Wasserstein loss',
        config='configs/gaussian/rotated_retinanet_swl_r50_fpn_1x_synthetic_le90.py',
        baseline='Rotated RetinaNet',
        seeds=2,
        group='retinanet'),
    dict(
        name='+ smooth Wasserstein loss x2.24',
        config='configs/gaussian/rotated_retinanet_swl_x2.24_r50_fpn_1x_synthetic_le90.py',
        baseline='Rotated RetinaNet',
        seeds=1,
        group='retinanet'),
    dict(
        name='CLA only',
        config='configs/refined_det/cla_rotated_retinanet_r50_fpn_1x_dota_le90.py',
        baseline='Rotated RetinaNet',
        seeds=1,
        group='refined_det'),
    dict(
        name='CLA only, nearest cells',
        config='configs/refined_det/cla_nearest_cells_rotated_retinanet_r50_fpn_1x_synthetic_le90.py',
        baseline='CLA only',
        seeds=1,
        group='refined_det'),
    dict(
        name='FRHead only',
        config='configs/refined_det/frhead_rotated_retinanet_r50_fpn_1x_dota_le90.py',
        baseline='Rotated RetinaNet',
        seeds=1,
        group='refined_det'),
    dict(
        name='Refined-Det',
        config='configs/refined_det/refined_det_r50_fpn_1x_synthetic_le90.py',
        baseline='Rotated RetinaNet',
        seeds=2,
        group='refined_det'),
    dict(
        name='Refined-Det, nearest cells',
        config='configs/refined_det/refined_det_nearest_cells_r50_fpn_1x_synthetic_le90.py',
        baseline='Refined-Det',
        seeds=1,
        group='refined_det'),
    dict(
        name='Rotated FCOS',
        config='configs/kldet/rotated_fcos_r50_fpn_p2_p6_1x_dota_le90.py',
        baseline=None,
        seeds=2,
        group='fcos'),
    dict(
        name='KLDet',
        config='configs/kldet/kldet_r50_fpn_1x_synthetic_le90.py',
        baseline='Rotated FCOS',
        seeds=2,
        group='fcos'),
    dict(
        name='KLDet, global stage 2',
        config='configs/kldet/kldet_r50_fpn_1x_synthetic_le90_global_stage2.py',
        baseline='KLDet',
        seeds=2,
        group='fcos'),
    dict(
        name='Rotated FCOS (P3-P5)',
        config='configs/fsanet/rotated_fcos_r50_fpn_p3_p5_1x_synthetic_le90.py',
        baseline=None,
        seeds=2,
        group='fsanet'),
    dict(
        name='FSANet',
        config='configs/fsanet/fsanet_r50_1x_synthetic_le90.py',
        baseline='Rotated FCOS (P3-P5)',
        seeds=2,
        group='fsanet'),
    dict(
        name='FA2M only',
        config='configs/fsanet/fsanet_r50_1x_synthetic_le90_fa2m_only.py',
        baseline='Rotated FCOS (P3-P5)',
        seeds=1,
        group='fsanet'),
    dict(
        name='SAGH only',
        config='configs/fsanet/fsanet_r50_1x_synthetic_le90_sagh_only.py',
        baseline='Rotated FCOS (P3-P5)',
        seeds=1,
        group='fsanet'),
    dict(
        name='FSANet, geometric offsets',
        config='configs/fsanet/fsanet_r50_1x_synthetic_le90_geometric_offsets.py',
        baseline='FSANet',
        seeds=1,
        group='fsanet'),
    dict(
        name='Oriented R-CNN',
        config='configs/baselines/oriented_rcnn_r50_fpn_1x_synthetic_le90.py',
        baseline=None,
        seeds=2,
        group='oriented_rcnn'),
    dict(
        name='SWIN-TOD',
        config='configs/swin_tod/swin_tod_oriented_rcnn_r50_fpn_1x_synthetic_le90.py',
        baseline='Oriented R-CNN',
        seeds=2,
        group='swin_tod'),
    dict(
        name='INEN only',
        config='configs/swin_tod/inen_oriented_rcnn_r50_fpn_1x_synthetic_le90.py',
        baseline='Oriented R-CNN',
        seeds=1,
        group='swin_tod'),
    dict(
        name='SWL only',
        config='configs/swin_tod/swl_oriented_rcnn_r50_fpn_1x_synthetic_le90.py',
        baseline='Oriented R-CNN',
        seeds=1,
        group='swin_tod'),
    dict(
        name='Receptive-field RPN only',
        config='configs/swin_tod/rfrpn_oriented_rcnn_r50_fpn_1x_synthetic_le90.py',
        baseline='Oriented R-CNN',
        seeds=1,
        group='swin_tod'),
    dict(
        name='Rotated TOOD',
        config='configs/afmnet/rotated_tood_r50_fpn_1x_synthetic_le90.py',
        baseline=None,
        seeds=2,
        group='afmnet'),
    dict(
        name='AFMNet',
        config='configs/afmnet/afmnet_r50_fpn_1x_synthetic_le90.py',
        baseline='Rotated TOOD',
        seeds=2,
        group='afmnet'),
    dict(
        name='AFMNet w/o masks',
        config='configs/afmnet/afmnet_r50_fpn_1x_synthetic_le90_no_masks.py',
        baseline='Rotated TOOD',
        seeds=1,
        group='afmnet'),
    dict(
        name='AFMNet w/o mining',
        config='configs/afmnet/afmnet_r50_fpn_1x_synthetic_le90_no_mining.py',
        baseline='Rotated TOOD',
        seeds=1,
        group='afmnet'),
    dict(
        name='AFMNet w/o interaction',
        config='configs/afmnet/afmnet_r50_fpn_1x_synthetic_le90_no_interaction.py',
        baseline='Rotated TOOD',
        seeds=1,
        group='afmnet'),
    dict(
        name='AFMNet w/o stride-4 head',
        config='configs/afmnet/afmnet_r50_fpn_1x_synthetic_le90_no_stride4.py',
        baseline='Rotated TOOD',
        seeds=1,
        group='afmnet'),
]

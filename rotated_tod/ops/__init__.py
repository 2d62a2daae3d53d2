"""Exact implementations, in plain torch, of the mmcv-full 1.7.2 ops that
have only a CUDA kernel (one file per op). :mod:`rotated_tod.compat` installs
them into mmcv and mmrotate for CPU tensors; CUDA tensors keep mmcv's
kernels. This package imports nothing from the rest of rotated_tod."""
from .chamfer_distance import chamfer_distance
from .convex_iou import convex_giou, convex_iou
from .diff_iou_rotated import diff_iou_rotated_2d
from .min_area_polygons import min_area_polygons
from .points_in_polygons import points_in_polygons
from .riroi_align_rotated import riroi_align_rotated

__all__ = [
    'chamfer_distance', 'convex_giou', 'convex_iou', 'diff_iou_rotated_2d',
    'min_area_polygons', 'points_in_polygons', 'riroi_align_rotated'
]

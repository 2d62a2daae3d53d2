
from . import assigners, coder, gaussian, gaussian_overlaps, rotated_overlaps
from .polygon import polygon_iou, polygon_iou_aligned  # noqa: F401

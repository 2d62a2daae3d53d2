
from . import assigners  # noqa: F401
from . import gaussian, gaussian_overlaps  # noqa: F401
from . import rotated_overlaps  # noqa: F401
from .polygon import polygon_iou, polygon_iou_aligned  # noqa: F401

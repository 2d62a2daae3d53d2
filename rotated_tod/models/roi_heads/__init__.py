from .inen_bbox_head import INENBBoxHead
from .inen_roi_heads import INENOrientedRoIHead, INENRoITransRoIHead
from .roi_interaction import RoIInteraction

__all__ = [
    'INENBBoxHead', 'INENOrientedRoIHead', 'INENRoITransRoIHead',
    'RoIInteraction'
]

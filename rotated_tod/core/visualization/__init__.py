from .draw import (
                   DetectionErrors,
                   class_palette,
                   classify_detections,
                   draw_detection_errors,
                   draw_detections,
                   draw_rotated_boxes,
)

__all__ = [
    'DetectionErrors', 'class_palette', 'classify_detections',
    'draw_detection_errors', 'draw_detections', 'draw_rotated_boxes'
]

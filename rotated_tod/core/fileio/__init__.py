"""File formats and atomic writes: the lowest layer, imported by every other."""
from .atomic import (atomic_write_bytes, atomic_write_image, atomic_write_text,
                     read_image)
from .dota import (DOTA_CLASSES, DOTA_V1_0_CLASSES, DOTA_V1_5_CLASSES,
                   DOTA_V2_0_CLASSES, DOTAAnnotation, DOTALabelError,
                   format_dota_labels, format_rate, list_label_files,
                   parse_dota_labels, parse_patch_id, patch_name, polygon_area,
                   resolve_classes, write_dota_labels)

__all__ = [
    'atomic_write_bytes', 'atomic_write_image', 'atomic_write_text',
    'read_image', 'DOTA_CLASSES', 'DOTA_V1_0_CLASSES', 'DOTA_V1_5_CLASSES',
    'DOTA_V2_0_CLASSES', 'DOTAAnnotation', 'DOTALabelError',
    'format_dota_labels', 'format_rate', 'list_label_files',
    'parse_dota_labels', 'parse_patch_id', 'patch_name', 'polygon_area',
    'resolve_classes', 'write_dota_labels'
]

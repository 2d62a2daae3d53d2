"""File formats and atomic writes: the lowest layer, imported by every other."""
from .atomic import (
    atomic_write_bytes,
    atomic_write_image,
    atomic_write_text,
    read_image,
)
from .dota import (
    DOTA_CLASSES,
    DOTA_V1_0_CLASSES,
    DOTA_V1_5_CLASSES,
    DOTA_V2_0_CLASSES,
    DOTAAnnotation,
    DOTALabelError,
    LabelScan,
    Task1Records,
    format_detection_lines,
    format_dota_labels,
    format_rate,
    list_label_files,
    parse_dota_labels,
    parse_patch_id,
    parse_task1,
    patch_name,
    polygon_area,
    read_task1_file,
    resolve_classes,
    scan_dota_labels,
    write_dota_labels,
)
from .input_error import (
    ON_INVALID,
    InputError,
    MissingInputError,
    check_on_invalid,
    handle_invalid,
    original_input_error,
    warn_skipped,
)

__all__ = [
    'atomic_write_bytes', 'atomic_write_image', 'atomic_write_text',
    'read_image', 'DOTA_CLASSES', 'DOTA_V1_0_CLASSES', 'DOTA_V1_5_CLASSES',
    'DOTA_V2_0_CLASSES', 'DOTAAnnotation', 'DOTALabelError', 'LabelScan',
    'format_dota_labels', 'format_rate', 'list_label_files',
    'parse_dota_labels', 'parse_patch_id', 'patch_name', 'polygon_area',
    'resolve_classes', 'scan_dota_labels', 'write_dota_labels', 'ON_INVALID',
    'InputError', 'MissingInputError', 'check_on_invalid', 'handle_invalid',
    'original_input_error', 'warn_skipped', 'Task1Records',
    'format_detection_lines', 'parse_task1', 'read_task1_file'
]

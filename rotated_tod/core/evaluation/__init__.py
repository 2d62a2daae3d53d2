from .dota_task1 import (
    COCO_IOU_THRS,
    SIZE_RANGES,
    ClassMatches,
    eval_dota_task1,
    eval_hrsc,
    eval_polygon_map,
    format_report,
    match_class,
    match_results,
    summarize,
    voc_ap,
)
from .submission import (
    Task1Records,
    detections_to_polygons,
    read_dota_submission,
    read_task1_file,
    task1_files,
    write_dota_submission,
)

__all__ = [
    'COCO_IOU_THRS', 'SIZE_RANGES', 'ClassMatches', 'eval_dota_task1',
    'eval_hrsc', 'eval_polygon_map', 'format_report', 'match_class',
    'match_results', 'summarize', 'voc_ap', 'Task1Records',
    'detections_to_polygons', 'read_dota_submission', 'read_task1_file',
    'task1_files', 'write_dota_submission'
]

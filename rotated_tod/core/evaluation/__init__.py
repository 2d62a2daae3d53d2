from .dota_task1 import (
    AITOD_SIZE_RANGES,
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
    detections_to_polygons,
    read_dota_submission,
    task1_files,
    write_dota_submission,
)

__all__ = [
    'AITOD_SIZE_RANGES', 'COCO_IOU_THRS', 'SIZE_RANGES', 'ClassMatches',
    'eval_dota_task1',
    'eval_hrsc', 'eval_polygon_map', 'format_report', 'match_class',
    'match_results', 'summarize', 'voc_ap', 'detections_to_polygons',
    'read_dota_submission', 'task1_files', 'write_dota_submission'
]

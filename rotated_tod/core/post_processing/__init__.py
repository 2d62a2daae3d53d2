from .head_fusion import fuse_head_detections  # noqa: F401
from .merge import merge_patch_results  # noqa: F401
from .nms import multiclass_nms_rotated, rotated_nms, soft_rotated_nms  # noqa: F401
from .sparse_nms import sparse_nms_rotated  # noqa: F401

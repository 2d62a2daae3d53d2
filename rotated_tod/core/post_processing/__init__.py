from .merge import merge_patch_results  # noqa: F401
from .nms import multiclass_nms_rotated, rotated_nms  # noqa: F401

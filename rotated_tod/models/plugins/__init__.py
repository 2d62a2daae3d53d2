
from .ellipse_mask_branch import EllipseMaskBranch  # noqa: F401
from .fine_grained_mining import FineGrainedMining  # noqa: F401
from .task_level_attention import TaskLevelAttention  # noqa: F401

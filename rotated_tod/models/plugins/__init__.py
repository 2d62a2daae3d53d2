
from .task_level_attention import TaskLevelAttention  # noqa: F401

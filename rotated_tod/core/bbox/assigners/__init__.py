from .ali_tsm_assigner import AliTSMAssigner
from .cross_grid_assigner import CrossGridAssigner, PriorGrid

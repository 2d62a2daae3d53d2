
from .kldet import KLDet  # noqa: F401
from .refined_det import RefinedDet  # noqa: F401

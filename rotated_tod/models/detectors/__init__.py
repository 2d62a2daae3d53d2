
from .afmnet import AFMNet  # noqa: F401
from .kldet import KLDet  # noqa: F401
from .receptive_field_two_stage import (  # noqa: F401
    ReceptiveFieldOrientedRCNN,
    ReceptiveFieldRoITransformer,
)
from .refined_det import RefinedDet  # noqa: F401
from .rotated_tood import RotatedTOOD  # noqa: F401


from .cross_grid_retina_head import CrossGridRetinaHead  # noqa: F401
from .frhead import FRHead  # noqa: F401
from .kldet_head import KLDetHead  # noqa: F401
from .partial_label_retina_head import (  # noqa: F401
    PartialLabelRotatedRetinaHead,
)
from .receptive_field_rpn_head import (  # noqa: F401
    ReceptiveFieldOrientedRPNHead,
    ReceptiveFieldRPNHead,
)
from .rotated_tood_head import RotatedTOODHead  # noqa: F401
from .spatial_aware_guidance_head import (  # noqa: F401
    SpatialAwareGuidanceHead,
)

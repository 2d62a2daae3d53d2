
from .cross_grid_retina_head import CrossGridRetinaHead  # noqa: F401
from .frhead import FRHead  # noqa: F401
from .kldet_head import KLDetHead  # noqa: F401

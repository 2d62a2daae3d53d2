from .gaussian_distance_loss import (BCDLoss, GWDLoss, JDLoss, KFIoULoss,  # noqa: F401
                                     KLDLoss, NWDLoss)
from .smooth_wasserstein_loss import SmoothWassersteinLoss  # noqa: F401

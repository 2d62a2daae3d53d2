from .gaussian_distance_loss import (
    BCDLoss,
    GWDLoss,
    JDLoss,
    KFIoULoss,
    KLDLoss,
    NWDLoss,
)
from .smooth_wasserstein_loss import SmoothWassersteinLoss

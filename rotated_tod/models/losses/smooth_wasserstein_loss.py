"""Smooth Wasserstein loss (SWL) of SWIN-TOD, as specified in methods.md (the
paper's released code does not contain it)."""
import torch
from mmrotate.models.builder import ROTATED_LOSSES

from ...core.bbox.gaussian import gaussian_distance, transform_distance
from .gaussian_distance_loss import GaussianLossBase


@ROTATED_LOSSES.register_module()
class SmoothWassersteinLoss(GaussianLossBase):
    """Huber loss on the 2-Wasserstein distance ``d = sqrt(GWD)`` of the full
    rotated Gaussians (symmetric in pred and target)::

        q = d - beta / 2        if d >= beta
        q = d^2 / (2 beta)      otherwise (= GWD / (2 beta), no square root)

    Like W2^2 near the target (smooth, gradient vanishing at the target),
    like W2 far from it (gradient norm bounded by 1 per unit of d). ``beta``
    is in pixels. By default ``fun='none', tau=0``: the loss is q; see
    :class:`GaussianLossBase` for ``fun``/``tau``/weights.
    """

    def __init__(self, beta: float = 1.0, fun: str = 'none',
                 tau: float = 0.0, reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__(fun, tau, reduction, loss_weight)
        if not beta > 0:
            raise ValueError(f'beta must be > 0, got {beta}')
        self.beta = float(beta)

    def quantity(self, pred: torch.Tensor,
                 target: torch.Tensor) -> torch.Tensor:
        gwd = gaussian_distance(pred, target, 'gwd', aligned=True)
        distance = transform_distance(gwd, 'sqrt')
        return torch.where(distance >= self.beta,
                           distance - 0.5 * self.beta,
                           gwd / (2 * self.beta))

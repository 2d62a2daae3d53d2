"""Regression losses on the Gaussians of rotated boxes: GWD, KLD, JD, BCD,
NWD and KFIoU (the math is in :mod:`rotated_tod.core.bbox.gaussian`).

All are drop-in ``loss_bbox`` of mmrotate's rotated dense and RoI heads with
``reg_decoded_bbox=True``: ``pred`` and ``target`` are decoded ``(N, 5)``
``xywha`` boxes, ``weight`` is ``(N,)`` or ``(N, 5)`` (averaged over the
last dim, as mmrotate's GDLoss does).

Each loss computes a per-box quantity ``q >= 0`` (0 when ``pred == target``)
and post-processes it like mmrotate's GDLoss:
``loss = 1 - 1 / (tau + f(q))`` if ``tau >= 1`` (bounded), else ``f(q)``,
with ``f`` = ``fun`` in ``'none'``, ``'sqrt'``, ``'log1p'``.
"""
from typing import Optional

import torch
from mmdet.models.losses.utils import weight_reduce_loss
from mmrotate.models.builder import ROTATED_LOSSES
from torch import nn

from ...core.bbox.gaussian import (
    DISTANCE_FUNS,
    NWD_CONSTANT,
    gaussian_distance,
    gaussian_scale,
    gaussian_similarity,
    transform_distance,
    whitened_offset,
)
from .box_loss_weight import no_positive, per_box_weight

REDUCTIONS = ('none', 'mean', 'sum')


class GaussianLossBase(nn.Module):
    """Weighting, reduction and ``fun``/``tau`` post-processing shared by the
    Gaussian losses; subclasses define :meth:`quantity`.

    Args:
        fun: ``'none'``, ``'sqrt'`` or ``'log1p'`` applied to the quantity.
        tau: ``>= 1``: ``loss = 1 - 1 / (tau + f(q))``; ``< 1``: ``f(q)``.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
    """

    def __init__(self, fun: str = 'log1p', tau: float = 1.0,
                 reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__()
        if fun not in DISTANCE_FUNS:
            raise ValueError(f'fun must be one of {DISTANCE_FUNS}, got '
                             f'{fun!r}')
        if reduction not in REDUCTIONS:
            raise ValueError(f'reduction must be one of {REDUCTIONS}, got '
                             f'{reduction!r}')
        self.fun = fun
        self.tau = float(tau)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)

    def quantity(self, pred: torch.Tensor,
                 target: torch.Tensor) -> torch.Tensor:
        """(N,) non-negative quantity, 0 for ``pred == target``."""
        raise NotImplementedError

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None) -> torch.Tensor:
        """Loss between (N, 5) decoded boxes ``pred`` and ``target``.

        ``weight`` (N,) or (N, 5); ``avg_factor`` divides the sum for
        ``'mean'``. Returns a scalar, or (N,) with reduction ``'none'``.
        """
        if reduction_override not in (None, ) + REDUCTIONS:
            raise ValueError(f'reduction_override must be None or one of '
                             f'{REDUCTIONS}, got {reduction_override!r}')
        reduction = reduction_override or self.reduction
        if pred.dim() != 2 or pred.shape[-1] != 5 or \
                pred.shape != target.shape:
            raise ValueError(f'pred and target must both be (N, 5), got '
                             f'{tuple(pred.shape)} and {tuple(target.shape)}')
        weight = per_box_weight(weight, pred)
        if no_positive(weight, reduction):
            return pred.sum() * 0
        quantity = self.quantity(pred, target)
        transformed = transform_distance(quantity, self.fun)
        if self.tau >= 1:
            loss = 1 - 1 / (self.tau + transformed)
        else:
            loss = transformed
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction,
                                                     avg_factor)


class _DistanceLoss(GaussianLossBase):
    """A loss on a Gaussian distance d, optionally square-rooted first
    (``q = sqrt(d)`` if ``sqrt``)."""

    def __init__(self, sqrt: bool = True, fun: str = 'log1p',
                 tau: float = 1.0, reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__(fun, tau, reduction, loss_weight)
        self.sqrt = bool(sqrt)

    def distance(self, pred: torch.Tensor,
                 target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def quantity(self, pred: torch.Tensor,
                 target: torch.Tensor) -> torch.Tensor:
        distance = self.distance(pred, target)
        return transform_distance(distance, 'sqrt') if self.sqrt else distance


@ROTATED_LOSSES.register_module()
class GWDLoss(_DistanceLoss):
    """Gaussian Wasserstein distance loss on ``d = GWD`` (squared W2).

    With ``normalize``, ``d = GWD / scale^2`` where ``scale = (w_p h_p w_t
    h_t)^(1/4)``, so ``sqrt(d)`` is mmrotate's normalised W2 (scale free).
    With the same ``fun``/``tau`` (and alpha 1) this equals mmrotate's
    ``GDLoss(loss_type='gwd')`` (``sqrt=True, normalize=True``). Symmetric
    in pred and target.
    """

    def __init__(self, normalize: bool = True, sqrt: bool = True,
                 fun: str = 'log1p', tau: float = 1.0,
                 reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__(sqrt, fun, tau, reduction, loss_weight)
        self.normalize = bool(normalize)

    def distance(self, pred: torch.Tensor,
                 target: torch.Tensor) -> torch.Tensor:
        gwd = gaussian_distance(pred, target, 'gwd', aligned=True)
        if self.normalize:
            gwd = gwd / gaussian_scale(pred, target).square()
        return gwd


@ROTATED_LOSSES.register_module()
class KLDLoss(_DistanceLoss):
    """Kullback-Leibler divergence loss.

    ``direction='target_pred'`` (default): ``d = KL(N_target || N_pred)``,
    the direction of mmrotate's ``GDLoss(loss_type='kld')``, which this
    equals with the same ``fun``/``tau`` (``sqrt=True``); its centre term is
    weighted by the predicted covariance. ``'pred_target'``:
    ``d = KL(N_pred || N_target)`` (mmrotate's ``GDLoss_v1``), centre term
    weighted by the target covariance.
    """

    DIRECTIONS = ('target_pred', 'pred_target')

    def __init__(self, direction: str = 'target_pred', sqrt: bool = True,
                 fun: str = 'log1p', tau: float = 1.0,
                 reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__(sqrt, fun, tau, reduction, loss_weight)
        if direction not in self.DIRECTIONS:
            raise ValueError(f'direction must be one of {self.DIRECTIONS}, '
                             f'got {direction!r}')
        self.direction = direction

    def distance(self, pred: torch.Tensor,
                 target: torch.Tensor) -> torch.Tensor:
        if self.direction == 'target_pred':
            return gaussian_distance(target, pred, 'kld', aligned=True)
        return gaussian_distance(pred, target, 'kld', aligned=True)


@ROTATED_LOSSES.register_module()
class JDLoss(_DistanceLoss):
    """Jeffreys divergence loss, ``d = (KL(p || t) + KL(t || p)) / 2``
    (symmetric); equals mmrotate's ``GDLoss(loss_type='jd')``."""

    def distance(self, pred: torch.Tensor,
                 target: torch.Tensor) -> torch.Tensor:
        return gaussian_distance(pred, target, 'jd', aligned=True)


@ROTATED_LOSSES.register_module()
class BCDLoss(_DistanceLoss):
    """Bhattacharyya distance loss, ``d = BCD(p, t)`` (symmetric); by default
    not square-rooted, ``loss = 1 - 1 / (1 + log1p(d))`` (mmrotate's
    ``GDLoss_v1('bcd')``)."""

    def __init__(self, sqrt: bool = False, fun: str = 'log1p',
                 tau: float = 1.0, reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__(sqrt, fun, tau, reduction, loss_weight)

    def distance(self, pred: torch.Tensor,
                 target: torch.Tensor) -> torch.Tensor:
        return gaussian_distance(pred, target, 'bcd', aligned=True)


@ROTATED_LOSSES.register_module()
class NWDLoss(GaussianLossBase):
    """Normalised Wasserstein distance loss, ``q = 1 - exp(-sqrt(GWD) / C)``
    (symmetric; by default ``fun='none', tau=0``: the loss is q)."""

    def __init__(self, C: float = NWD_CONSTANT, fun: str = 'none',
                 tau: float = 0.0, reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__(fun, tau, reduction, loss_weight)
        if not C > 0:
            raise ValueError(f'C must be > 0, got {C}')
        self.C = float(C)

    def quantity(self, pred: torch.Tensor,
                 target: torch.Tensor) -> torch.Tensor:
        return 1 - gaussian_similarity(pred, target, 'nwd', aligned=True,
                                       C=self.C)


@ROTATED_LOSSES.register_module()
class KFIoULoss(GaussianLossBase):
    """KFIoU loss for decoded boxes.

    ``q = 1 - KFIoU3(p, t) + center_weight * sum smoothL1(o, beta)``, where
    KFIoU3 is the KFIoU rescaled to 1 for identical shapes (it ignores the
    centres) and ``o = R_t^T (mu_p - mu_t) / (w_t, h_t)`` is the centre
    offset in the target's frame in units of its sides (what the
    ``(dx, dy)`` of mmrotate's delta coders measure), replacing the
    smooth-L1 on encoded centre deltas of mmrotate's ``KFLoss``.
    """

    def __init__(self, center_weight: float = 1.0, beta: float = 1.0 / 9.0,
                 fun: str = 'none', tau: float = 0.0,
                 reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__(fun, tau, reduction, loss_weight)
        if not beta > 0:
            raise ValueError(f'beta must be > 0, got {beta}')
        self.center_weight = float(center_weight)
        self.beta = float(beta)

    def quantity(self, pred: torch.Tensor,
                 target: torch.Tensor) -> torch.Tensor:
        overlap = gaussian_similarity(pred, target, 'kfiou', aligned=True)
        offset = (whitened_offset(pred, target) / 2).abs()
        center = torch.where(offset < self.beta,
                             0.5 * offset.square() / self.beta,
                             offset - 0.5 * self.beta).sum(-1)
        return (1 - overlap).clamp(min=0) + self.center_weight * center

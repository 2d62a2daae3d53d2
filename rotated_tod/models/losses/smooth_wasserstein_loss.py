"""Smooth Wasserstein loss (SWL) of SWIN-TOD ("SWIN-TOD: Smooth Wasserstein
Distance and Instance-level Neighboring Enhancement for Remote Sensing Tiny
Object Detection", IEEE TGRS 2024).

The released code does not contain the loss (its configs name one that
exists nowhere); they show that it replaces ``SmoothL1Loss(beta,
loss_weight)`` one for one on the encoded box deltas, with beta 1/9 in the
RPN and 1.0 in the RoI stages, and the paper describes it as the L2 norm of
the box-offset vector, first order above a threshold and second order below.
Both forms here are a Huber function of a norm ``n``::

    q(n) = n^2 / (2 beta)    if n < beta
    q(n) = n - beta / 2      otherwise

continuous with its first derivative at ``n = beta`` (value ``beta / 2``,
slope 1), quadratic near the target, gradient norm 1 far from it.

- ``space='delta'`` (default, the configs' form): ``n = |pred - target|_2``
  over the last dim of the *encoded* deltas of the coder in use (5-d for
  ``DeltaXYWHAOBBoxCoder``, 6-d for ``MidpointOffsetCoder``); a drop-in for
  ``SmoothL1Loss`` (``reg_decoded_bbox=False``), beta meaning what it means
  there.
- ``space='gaussian'`` (rotation aware; our extension): ``n = sqrt(GWD(pred,
  target)) / sqrt(w_a h_a)`` on *decoded* ``(N, 5)`` boxes with full rotated
  covariances, normalised by the scale of the anchor / prior / RoI each
  prediction was regressed from (passed as ``anchors``), so beta is
  dimensionless. For axis-aligned boxes ``GWD = |dc|^2 + (dw^2 + dh^2) / 4``:
  ``n`` is the norm of ``(dcx, dcy, dw / 2, dh / 2) / s``, the same kind of
  offset the delta form measures.

The first version of this file applied the Huber function to ``sqrt(GWD)``
in pixels, which has no scale-free beta (a 1 px beta is tight for a 100 px
ship and loose for a 6 px car); it is gone: ``space='gaussian'`` is that
form made scale free.

The quadratic branch is computed from ``n^2`` directly (no square root), so
the loss and its gradient are exact and finite at ``n = 0``.
"""
from typing import Optional

import torch
from mmdet.models.losses.utils import weight_reduce_loss
from mmrotate.models.builder import ROTATED_LOSSES
from torch import nn

from ...core.bbox.gaussian import SQRT_FLOOR, gaussian_distance
from .box_loss_weight import no_positive, per_box_weight

SPACES = ('delta', 'gaussian')
REDUCTIONS = ('none', 'mean', 'sum')


def huber_of_norm(squared_norm: torch.Tensor, beta: float) -> torch.Tensor:
    """``q(n)`` of the module docstring from ``n^2`` (any shape)."""
    norm = torch.sqrt(squared_norm.clamp(min=SQRT_FLOOR))
    return torch.where(squared_norm < beta * beta,
                       squared_norm / (2 * beta), norm - 0.5 * beta)


@ROTATED_LOSSES.register_module()
class SmoothWassersteinLoss(nn.Module):
    """Smooth Wasserstein loss (module docstring).

    Args:
        space: ``'delta'`` (encoded deltas, drop-in for ``SmoothL1Loss``) or
            ``'gaussian'`` (decoded boxes and their anchors).
        beta: the Huber joint: in units of the encoded deltas for
            ``'delta'``, in units of ``sqrt(w_a h_a)`` for ``'gaussian'``.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight: multiplies the loss.
    """

    def __init__(self, space: str = 'delta', beta: float = 1.0,
                 reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__()
        if space not in SPACES:
            raise ValueError(f'space must be one of {SPACES}, got {space!r}')
        if not beta > 0:
            raise ValueError(f'beta must be > 0, got {beta}')
        if reduction not in REDUCTIONS:
            raise ValueError(f'reduction must be one of {REDUCTIONS}, got '
                             f'{reduction!r}')
        self.space = space
        self.beta = float(beta)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)

    @property
    def needs_anchors(self) -> bool:
        """Whether the caller must pass ``anchors`` (Gaussian space)."""
        return self.space == 'gaussian'

    def squared_norm(self, pred: torch.Tensor, target: torch.Tensor,
                     anchors: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(N,) ``n^2`` of each row."""
        if self.space == 'delta':
            return (pred - target).square().sum(-1)
        if anchors is None:
            raise ValueError("space='gaussian' needs the anchors / RoIs the "
                             'boxes were regressed from (anchors=...)')
        if anchors.shape != pred.shape:
            raise ValueError(f'anchors must be (N, 5) like pred, got '
                             f'{tuple(anchors.shape)}')
        gwd = gaussian_distance(pred, target, 'gwd', aligned=True)
        area = (anchors[:, 2] * anchors[:, 3]).detach().clamp(min=SQRT_FLOOR)
        return gwd / area

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                anchors: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Loss between ``pred`` and ``target`` (N, D).

        Args:
            pred, target: (N, D) encoded deltas (``'delta'``) or (N, 5)
                decoded ``xywha`` boxes (``'gaussian'``).
            weight: (N,) or (N, D); a row's weight is the mean of its
                entries (mmdet's box weights are 0 or 1 per row).
            avg_factor: divides the sum for ``'mean'`` (the number of rows
                for mmdet's heads, as with ``SmoothL1Loss``).
            reduction_override: overrides ``reduction``.
            anchors: (N, 5) ``xywha`` anchors / RoIs, for ``'gaussian'``.

        Returns:
            A scalar, or (N,) with reduction ``'none'``.
        """
        if reduction_override not in (None, ) + REDUCTIONS:
            raise ValueError(f'reduction_override must be None or one of '
                             f'{REDUCTIONS}, got {reduction_override!r}')
        reduction = reduction_override or self.reduction
        if pred.dim() != 2 or pred.shape != target.shape:
            raise ValueError(f'pred and target must both be (N, D), got '
                             f'{tuple(pred.shape)} and {tuple(target.shape)}')
        if self.space == 'gaussian' and pred.shape[-1] != 5:
            raise ValueError("space='gaussian' needs (N, 5) decoded boxes, "
                             f'got {tuple(pred.shape)}')
        weight = per_box_weight(weight, pred)
        if no_positive(weight, reduction):
            return pred.sum() * 0
        loss = huber_of_norm(self.squared_norm(pred, target, anchors),
                             self.beta)
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction,
                                                     avg_factor)

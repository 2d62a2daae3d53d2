"""The weight checks shared by our per-box regression losses."""
from typing import Optional

import torch


def per_box_weight(weight: Optional[torch.Tensor],
                   pred: torch.Tensor) -> Optional[torch.Tensor]:
    """``weight`` as ``(N,)`` for ``(N, D)`` predictions.

    mmdet heads hand a box loss either one weight per box ``(N,)`` or one per
    coordinate ``(N, D)``; the latter is averaged over the last dimension, as
    mmrotate's ``GDLoss`` does. Any other shape is an error.
    """
    if weight is None:
        return None
    if weight.dim() > 1:
        if weight.shape != pred.shape:
            raise ValueError(f'weight must be (N,) or (N, {pred.shape[-1]}), '
                             f'got {tuple(weight.shape)}')
        return weight.mean(-1)
    if weight.shape != pred.shape[:1]:
        raise ValueError(f'weight must be (N,) or (N, {pred.shape[-1]}), '
                         f'got {tuple(weight.shape)}')
    return weight


def no_positive(weight: Optional[torch.Tensor], reduction: str) -> bool:
    """True when a reduced loss has no box with a positive weight: the caller
    then returns ``pred.sum() * 0``, a zero that keeps ``pred`` in the graph
    (distributed training expects every parameter to get a gradient)."""
    return (weight is not None and reduction != 'none'
            and not bool(torch.any(weight > 0)))

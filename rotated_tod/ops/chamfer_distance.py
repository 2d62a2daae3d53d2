"""Chamfer distance between 2-D point sets (mmcv's ``chamfer_distance``,
Oriented RepPoints' point-set quality), on any device.

For point sets ``A`` (B, N, 2) and ``B`` (B, M, 2):
``dist1[b, i] = min_j |A_bi - B_bj|^2`` with ``idx1`` its argmin (the first
on ties), and ``dist2`` / ``idx2`` the other way round. Squared distances,
as mmcv returns them; autograd's gradient is the kernel's
``2 (a - b_argmin)``.
"""
from typing import Tuple

import torch


def chamfer_distance(xyz1: torch.Tensor, xyz2: torch.Tensor
                     ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                torch.Tensor]:
    """Args: (B, N, 2) and (B, M, 2) point sets. Returns: dist1 (B, N),
    dist2 (B, M), idx1 (B, N) int32, idx2 (B, M) int32."""
    squared = ((xyz1[:, :, None] - xyz2[:, None]) ** 2).sum(-1)
    dist1, idx1 = squared.min(2)
    dist2, idx2 = squared.min(1)
    return dist1, dist2, idx1.int(), idx2.int()

r"""Rotated-ellipse mask targets of rotated boxes on a feature grid.

AFMNet (ICASSP 2025 submission, code unreleased) supervises two mask
predictors with binary "oval" masks of the GT boxes at strides 8 and 16,
precomputed offline for horizontal boxes. Our oriented design (not the
paper's code) renders them online from the rotated GTs: the ellipse of box
``(cx, cy, w, h, theta)`` is

    ``E = {p : (p - c)^T S^-1 (p - c) <= 1}``,
    ``S = R(theta) diag(w^2/4, h^2/4) R(theta)^T``,

the ellipse inscribed in the box (area ``pi w h / 4``), i.e. the unit
Mahalanobis ball of the box's Gaussian (:mod:`rotated_tod.core.bbox.gaussian`).
Cell ``(i, j)`` of a stride-``s`` map is tested at its centre
``((j + 0.5) s, (i + 0.5) s)``. Targets:

- ``'binary'``: 1 inside ``E``, else 0;
- ``'gaussian'``: ``exp(-d^2 / 2)`` with ``d^2`` the Mahalanobis distance,
  cut to 0 beyond ``d = GAUSSIAN_CUTOFF``.

An object smaller than a cell may contain no cell centre, so the cell
holding each GT's centre is set to 1 (inside the ellipse anyway when both
half sides exceed s / sqrt(2)): every GT inside the map leaves a mark.
Overlapping GTs: the maximum.
"""
from typing import Tuple

import torch

from .gaussian import whitened_offset

MASK_MODES = ('binary', 'gaussian')
#: Mahalanobis radius beyond which the Gaussian target is 0 (exp(-4.5)).
GAUSSIAN_CUTOFF = 3.0
#: Cell-GT pairs evaluated at once (bounds the float64 temporaries; every
#: cell is tested against every GT in one pass per chunk, few kernel calls
#: on a GPU).
PAIRS_PER_CHUNK = 1 << 20


def ellipse_mask_targets(gt_bboxes: torch.Tensor,
                         featmap_size: Tuple[int, int],
                         stride: float,
                         mode: str = 'binary') -> torch.Tensor:
    """Mask target of one image on one feature level.

    Args:
        gt_bboxes: (M, 5) ``xywha`` GT boxes in input-image pixels.
        featmap_size: ``(H, W)`` of the level.
        stride: its stride in pixels.
        mode: ``'binary'`` or ``'gaussian'`` (module docstring).

    Returns:
        (H, W) float target in [0, 1], dtype and device of ``gt_bboxes``.
    """
    if mode not in MASK_MODES:
        raise ValueError(f'mode must be one of {MASK_MODES}, got {mode!r}')
    if gt_bboxes.dim() != 2 or gt_bboxes.size(-1) != 5:
        raise ValueError(
            f'gt_bboxes must be (M, 5), got {tuple(gt_bboxes.shape)}')
    height, width = int(featmap_size[0]), int(featmap_size[1])
    boxes = gt_bboxes.detach()
    target = boxes.new_zeros((height, width))
    if boxes.size(0) == 0 or height * width == 0:
        return target
    ys = (torch.arange(height, dtype=boxes.dtype, device=boxes.device) +
          0.5) * stride
    xs = (torch.arange(width, dtype=boxes.dtype, device=boxes.device) +
          0.5) * stride
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    cells = torch.stack([grid_x.flatten(), grid_y.flatten()], -1)[:, None]
    flat = target.view(-1)
    # GTs per chunk so that a chunk holds about PAIRS_PER_CHUNK cell-GT pairs.
    chunk = max(1, PAIRS_PER_CHUNK // (height * width))
    for start in range(0, boxes.size(0), chunk):
        part = boxes[start:start + chunk][None]
        located = torch.cat([cells.expand(-1, part.size(1), -1),
                             part[..., 2:].expand(cells.size(0), -1, -1)],
                            -1)
        squared = whitened_offset(located, part).square().sum(-1)
        if mode == 'binary':
            values = (squared <= 1).to(boxes.dtype)
        else:
            values = torch.exp(-0.5 * squared) * (squared <=
                                                  GAUSSIAN_CUTOFF**2)
        flat.copy_(torch.maximum(flat, values.amax(1)))
    col = torch.floor(boxes[:, 0] / stride).long()
    row = torch.floor(boxes[:, 1] / stride).long()
    inside = (row >= 0) & (row < height) & (col >= 0) & (col < width)
    target[row[inside], col[inside]] = 1.0
    return target

"""Convex hulls of batches of small point sets (Andrew's monotone chain,
vectorised over the batch).

The chain's stack is kept per point set as a padded index tensor; the loops
run over the (few) points of a set, never over the batch. Collinear and
repeated points are dropped (cross product ``<= 0`` pops), so the hull has
only its corners. The comparisons are non-differentiable; gathering the
points by the returned indices keeps the gradient with respect to the
hull's corners.
"""
from typing import Tuple

import torch


def _cross(origin: torch.Tensor, a: torch.Tensor,
           b: torch.Tensor) -> torch.Tensor:
    return ((a[..., 0] - origin[..., 0]) * (b[..., 1] - origin[..., 1]) -
            (a[..., 1] - origin[..., 1]) * (b[..., 0] - origin[..., 0]))


def _chain(points: torch.Tensor,
           order: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """One monotone chain over ``order`` (B, n): (B, n) stack of point
    indices and its (B,) size."""
    batch, num = order.shape
    rows = torch.arange(batch, device=points.device)
    stack = torch.zeros_like(order)
    size = torch.zeros(batch, dtype=torch.long, device=points.device)
    for i in range(num):
        point = points[rows, order[:, i]]
        while True:
            deep = size >= 2
            below = stack[rows, (size - 2).clamp(min=0)]
            top = stack[rows, (size - 1).clamp(min=0)]
            pop = deep & (_cross(points[rows, below], points[rows, top],
                                 point) <= 0)
            if not bool(pop.any()):
                break
            size = size - pop.long()
        stack[rows, size] = order[:, i]
        size = size + 1
    return stack, size


@torch.no_grad()
def convex_hull_indices(points: torch.Tensor
                        ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Counter-clockwise convex hull of each point set.

    Args:
        points: (B, n, 2) point sets.

    Returns:
        index (B, n) long: the hull's corners as indices into each set,
        counter-clockwise (x right, y up; clockwise on screen, where y
        points down) from the lowest point (smallest y, then smallest x),
        padded with the first corner; count (B,) corners of each hull
        (1 or 2 for sets whose points coincide or are collinear).
    """
    batch, num, _ = points.shape
    points = points.double()
    if batch == 0:
        return (torch.zeros(0, num, dtype=torch.long, device=points.device),
                torch.zeros(0, dtype=torch.long, device=points.device))
    # Lexicographic order by (x, y): two stable sorts.
    order = torch.argsort(points[..., 1], dim=1, stable=True)
    order = torch.gather(order, 1, torch.argsort(
        torch.gather(points[..., 0], 1, order), dim=1, stable=True))
    lower, lower_size = _chain(points, order)
    upper, upper_size = _chain(points, order.flip(1))
    # hull = lower[:-1] + upper[:-1]
    lower_len = lower_size - 1
    count = (lower_len + upper_size - 1).clamp(min=1)
    slot = torch.arange(2 * num, device=points.device).expand(batch, -1)
    from_lower = slot < lower_len[:, None]
    upper_slot = (slot - lower_len[:, None]).clamp(0, num - 1)
    hull = torch.where(from_lower, torch.gather(lower, 1,
                                                slot.clamp(max=num - 1)),
                       torch.gather(upper, 1, upper_slot))
    # Start at the lowest point, as mmcv's kernels (Jarvis march) do.
    rows = torch.arange(batch, device=points.device)[:, None]
    hull_y = points[rows, hull, 1]
    hull_x = points[rows, hull, 0]
    valid = slot < count[:, None]
    key_y = torch.where(valid, hull_y, torch.full_like(hull_y, float('inf')))
    lowest_y = key_y.min(1, keepdim=True)[0]
    key_x = torch.where(valid & (key_y == lowest_y), hull_x,
                        torch.full_like(hull_x, float('inf')))
    start = key_x.argmin(1)
    index = torch.arange(num, device=points.device).expand(batch, -1)
    rolled = torch.where(index < count[:, None],
                         (index + start[:, None]) % count[:, None],
                         torch.zeros_like(index) + start[:, None])
    return torch.gather(hull, 1, rolled), count

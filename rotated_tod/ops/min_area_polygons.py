"""Minimum-area enclosing rectangles of point sets (mmcv's
``min_area_polygons``, used by Oriented RepPoints, CFA, SASM and G-Rep to
turn point sets into boxes), on any device.

The rectangle of least area around a convex polygon has a side along one of
its edges (Freeman and Shapira, 1975, the rotating-calipers argument). For
each point set: the convex hull (:mod:`.convex_hull`), the angle of each
hull edge modulo pi/2, the axis-aligned bounding box of the points rotated
by minus that angle, and the smallest of these boxes (the first hull edge,
counted from the lowest corner, on exact ties), as mmcv's kernel does. The
corners are returned in the kernel's order: in the rotated frame
``(xmax, ymin), (xmin, ymin), (xmin, ymax), (xmax, ymax)``.
"""
import math

import torch

from .convex_hull import convex_hull_indices


@torch.no_grad()
def min_area_polygons(pointsets: torch.Tensor) -> torch.Tensor:
    """Minimum-area rectangle around each set of nine points.

    Args:
        pointsets: (N, 18) ``x1, y1, ..., x9, y9``.

    Returns:
        (N, 8) the four corners ``x1, y1, ..., x4, y4`` in the dtype of
        ``pointsets`` (computed in float64).
    """
    if pointsets.dim() != 2 or pointsets.shape[1] != 18:
        raise ValueError(f'pointsets must be (N, 18), got '
                         f'{tuple(pointsets.shape)}')
    num = pointsets.shape[0]
    if num == 0:
        return pointsets.new_zeros((0, 8))
    points = pointsets.double().reshape(num, 9, 2)
    index, count = convex_hull_indices(points)
    hull = torch.gather(points, 1, index[..., None].expand(-1, -1, 2))
    following = torch.roll(hull, -1, dims=1)
    # Edge k runs from corner k to corner k + 1 (the last one back to 0).
    slot = torch.arange(9, device=points.device)
    last = (slot == (count[:, None] - 1))[..., None]
    following = torch.where(last, hull[:, :1], following)
    edge = following - hull
    angle = torch.remainder(torch.atan2(edge[..., 1], edge[..., 0]),
                            math.pi / 2)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # Rotate by -angle: (x cos + y sin, -x sin + y cos), all points at once.
    x, y = points[:, None, :, 0], points[:, None, :, 1]
    rx = x * cos[..., None] + y * sin[..., None]
    ry = -x * sin[..., None] + y * cos[..., None]
    xmin, xmax = rx.min(-1)[0], rx.max(-1)[0]
    ymin, ymax = ry.min(-1)[0], ry.max(-1)[0]
    area = (xmax - xmin) * (ymax - ymin)
    area = torch.where(slot < count[:, None].clamp(min=1), area,
                       torch.full_like(area, float('inf')))
    best = area.argmin(1, keepdim=True)

    def pick(value: torch.Tensor) -> torch.Tensor:
        return torch.gather(value, 1, best)[:, 0]

    c, s = pick(cos), pick(sin)
    x0, x1, y0, y1 = pick(xmin), pick(xmax), pick(ymin), pick(ymax)
    corners = [(x1, y0), (x0, y0), (x0, y1), (x1, y1)]
    out = torch.stack([
        coord for u, v in corners for coord in (u * c - v * s, u * s + v * c)
    ], 1)
    return out.to(pointsets.dtype)

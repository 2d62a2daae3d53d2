"""Batched, differentiable clipping of polygons by convex polygons.

Sutherland-Hodgman: a polygon clipped successively by the half-planes of
the edges of a convex polygon ``Q`` is its intersection with ``Q``. Every
output vertex is either an input vertex or the point where an input edge
crosses a clipping line, ``v_i + d_i / (d_i - d_j) (v_j - v_i)`` with
``d`` the signed distances to that line, so the intersection area is an
exact, piecewise smooth function of the coordinates and autograd gives its
gradient. The subject polygon may be non-convex (the output then may hold
degenerate zero-area edges, which the shoelace formula ignores).

Polygons of a batch have different vertex counts: they are stored padded,
(B, K, 2) with a (B,) ``count``; slots past ``count`` are never read.
"""
from typing import Tuple

import torch


def _cross(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _next_index(count: torch.Tensor, slots: int) -> torch.Tensor:
    """(B, K) index of the next vertex, wrapping at ``count``."""
    index = torch.arange(slots, device=count.device)
    return torch.where(index + 1 < count[:, None], index + 1,
                       torch.zeros_like(index))


def _gather_points(points: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return torch.gather(points, 1, index[..., None].expand(-1, -1, 2))


def polygon_area(vertices: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    """Signed shoelace area, positive for counter-clockwise polygons.

    Args:
        vertices: (B, K, 2) padded polygons.
        count: (B,) number of vertices of each.

    Returns:
        (B,) ``0.5 * sum_i cross(v_i, v_{i+1})`` over the first ``count``
        vertices (0 for fewer than 3).
    """
    slots = vertices.shape[1]
    valid = torch.arange(slots, device=count.device) < count[:, None]
    following = _gather_points(vertices, _next_index(count, slots))
    terms = _cross(vertices, following)
    return 0.5 * torch.where(valid, terms, torch.zeros_like(terms)).sum(1)


def clip_by_half_plane(vertices: torch.Tensor, count: torch.Tensor,
                       start: torch.Tensor, end: torch.Tensor,
                       side: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Keep the part of each polygon on the ``side`` of a directed line.

    Args:
        vertices: (B, K, 2) padded polygons, ``count`` (B,) vertices each.
        start, end: (B, 2) two points of each line; ``start == end`` keeps
            the polygon unchanged.
        side: (B,) +1 keeps the left of ``start -> end`` (the inside of a
            counter-clockwise clip polygon), -1 the right.

    Returns:
        The clipped polygons, (B, K', 2), and their counts (B,); K' is the
        largest count of the batch.
    """
    batch, slots, _ = vertices.shape
    valid = torch.arange(slots, device=count.device) < count[:, None]
    following = _next_index(count, slots)
    dist = side[:, None] * _cross((end - start)[:, None],
                                  vertices - start[:, None])
    dist_next = torch.gather(dist, 1, following)
    inside = dist >= 0
    crossing = valid & (inside != (dist_next >= 0))
    # d_i - d_j is non-zero wherever the edge crosses; elsewhere a safe
    # denominator keeps the unused branch (and its gradient) finite.
    denom = torch.where(crossing, dist - dist_next, torch.ones_like(dist))
    frac = torch.where(crossing, dist / denom, torch.zeros_like(dist))
    crossing_point = vertices + frac[..., None] * (
        _gather_points(vertices, following) - vertices)
    # Candidates in polygon order: vertex i, then the crossing on edge i.
    candidates = torch.stack([vertices, crossing_point], 2).reshape(
        batch, 2 * slots, 2)
    keep = torch.stack([valid & inside, crossing], 2).reshape(batch, 2 * slots)
    new_count = keep.sum(1)
    new_slots = int(new_count.max()) if batch else 0
    order = torch.argsort((~keep).to(torch.uint8), dim=1, stable=True)
    return _gather_points(candidates, order[:, :new_slots]), new_count


def clip_polygons(subject: torch.Tensor, subject_count: torch.Tensor,
                  clip: torch.Tensor,
                  clip_count: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Intersect each subject polygon with a convex clip polygon.

    Args:
        subject: (B, K, 2) padded polygons (any orientation, possibly
            non-convex), ``subject_count`` (B,) vertices each.
        clip: (B, M, 2) padded convex polygons (any orientation),
            ``clip_count`` (B,) vertices each.

    Returns:
        The intersections, padded (B, K', 2), and their vertex counts.
    """
    slots = clip.shape[1]
    side = torch.where(polygon_area(clip.detach(), clip_count) < 0, -1.0, 1.0)
    side = side.to(clip.dtype)
    following = _next_index(clip_count, slots)
    vertices, count = subject, subject_count
    for j in range(slots):
        start = clip[:, j]
        end = clip[torch.arange(clip.shape[0], device=clip.device),
                   following[:, j]]
        # Edges past a polygon's count become a point: no clipping.
        unused = (j >= clip_count)[:, None]
        end = torch.where(unused, start, end)
        vertices, count = clip_by_half_plane(vertices, count, start, end, side)
    return vertices, count


def intersection_area(subject: torch.Tensor, subject_count: torch.Tensor,
                      clip: torch.Tensor, clip_count: torch.Tensor
                      ) -> torch.Tensor:
    """(B,) area of ``subject`` intersected with the convex ``clip``
    (0 where the clip polygon has fewer than 3 vertices)."""
    vertices, count = clip_polygons(subject, subject_count, clip, clip_count)
    area = polygon_area(vertices, count).abs()
    return torch.where(clip_count >= 3, area, torch.zeros_like(area))

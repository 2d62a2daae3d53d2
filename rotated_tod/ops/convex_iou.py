"""IoU and GIoU between the convex hulls of point sets and quadrilaterals
(mmcv's ``convex_iou`` / ``convex_giou``, used by the RepPoints family:
Oriented RepPoints, CFA, SASM, G-Rep), exact on any device.

For a point set ``P`` (9 points) and a polygon ``Q`` (4 points, simple,
either orientation), with ``H = hull(P)``:

    I = |H ∩ Q|,  U = |H| + |Q| - I,  IoU = I / U,
    C = |hull(P ∪ Q)|,  GIoU = IoU - (C - U) / C.

``H ∩ Q`` is obtained by clipping ``Q`` by the edges of ``H``
(:mod:`.polygon_clip`), exact for non-convex ``Q`` too. mmcv's CUDA
``convex_giou`` also returns the gradient of GIoU with respect to the 18
point coordinates (points inside the hull get 0); here it is autograd's
exact derivative, computed in float64. Denominators below
``finfo(float64).eps`` are clamped so degenerate sets stay finite.
"""
from typing import Tuple

import torch

from .convex_hull import convex_hull_indices
from .polygon_clip import intersection_area, polygon_area

#: Point-set / polygon pairs clipped at once (bounds the memory of
#: ``convex_iou`` to a few hundred MB whatever N x K).
PAIRS_PER_CHUNK = 1 << 16


def _hulls(points: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """(B, n, 2) -> hull corners (B, n, 2) (differentiable gather) and
    their counts."""
    index, count = convex_hull_indices(points)
    return torch.gather(points, 1, index[..., None].expand(-1, -1, 2)), count


def _pair_iou(hull: torch.Tensor, hull_count: torch.Tensor,
              hull_area: torch.Tensor, quads: torch.Tensor) -> torch.Tensor:
    four = torch.full_like(hull_count, 4)
    inter = intersection_area(quads, four, hull, hull_count)
    quad_area = polygon_area(quads, four).abs()
    union = hull_area + quad_area - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-300),
                       torch.zeros_like(inter))


def _check(pointsets: torch.Tensor, polygons: torch.Tensor) -> None:
    if pointsets.dim() != 2 or pointsets.shape[1] != 18:
        raise ValueError(f'pointsets must be (N, 18), got '
                         f'{tuple(pointsets.shape)}')
    if polygons.dim() != 2 or polygons.shape[1] != 8:
        raise ValueError(f'polygons must be (K, 8), got '
                         f'{tuple(polygons.shape)}')


@torch.no_grad()
def convex_iou(pointsets: torch.Tensor, polygons: torch.Tensor) -> torch.Tensor:
    """IoU of every point set's convex hull with every polygon.

    Args:
        pointsets: (N, 18) nine points ``x1, y1, ..., x9, y9``.
        polygons: (K, 8) four points ``x1, y1, ..., x4, y4``.

    Returns:
        (N, K) IoU in the dtype of ``pointsets`` (computed in float64).
        Pairs whose enclosing axis-aligned boxes are disjoint are 0 without
        being clipped.
    """
    _check(pointsets, polygons)
    num, num_polys = pointsets.shape[0], polygons.shape[0]
    out = pointsets.new_zeros((num, num_polys))
    if num * num_polys == 0:
        return out
    points = pointsets.double().reshape(num, 9, 2)
    quads = polygons.double().reshape(num_polys, 4, 2)
    hull, count = _hulls(points)
    hull_area = polygon_area(hull, count).abs()
    lo_p, hi_p = points.min(1)[0], points.max(1)[0]
    lo_q, hi_q = quads.min(1)[0], quads.max(1)[0]
    rows_per_chunk = max(1, PAIRS_PER_CHUNK // num_polys)
    for start in range(0, num, rows_per_chunk):
        stop = min(num, start + rows_per_chunk)
        overlap = ((torch.min(hi_p[start:stop, None], hi_q[None]) >=
                    torch.max(lo_p[start:stop, None], lo_q[None])).all(-1))
        i, j = overlap.nonzero(as_tuple=True)
        if len(i):
            i = i + start
            out[i, j] = _pair_iou(hull[i], count[i], hull_area[i],
                                  quads[j]).to(out.dtype)
    return out


def _giou(points: torch.Tensor, quads: torch.Tensor) -> torch.Tensor:
    hull, count = _hulls(points)
    hull_area = polygon_area(hull, count).abs()
    four = torch.full_like(count, 4)
    inter = intersection_area(quads, four, hull, count)
    union = hull_area + polygon_area(quads, four).abs() - inter
    eps = torch.finfo(points.dtype).eps
    union = union.clamp(min=eps)
    # The polygon's corners go first: a corner of the point set that
    # coincides with one of them is kept in the enclosing hull, so the
    # gradient reaches it (as mmcv's kernel, which drops the polygon's).
    enclosing, enclosing_count = _hulls(torch.cat([quads, points], 1))
    enclose = polygon_area(enclosing, enclosing_count).abs().clamp(min=eps)
    return inter / union - (enclose - union) / enclose


def convex_giou(pointsets: torch.Tensor, polygons: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
    """GIoU of each point set's hull with its polygon, and its gradient.

    Args:
        pointsets: (N, 18) nine points per row.
        polygons: (N, 8) four points per row.

    Returns:
        giou (N,) and grad (N, 18) = d giou / d pointsets, in the dtype of
        ``pointsets`` (computed in float64); like mmcv's op, no autograd
        graph is attached (mmrotate's ``ConvexGIoULoss`` uses ``grad`` in
        its own backward).
    """
    _check(pointsets, polygons)
    if pointsets.shape[0] != polygons.shape[0]:
        raise ValueError(f'convex_giou pairs rows: {pointsets.shape[0]} '
                         f'point sets vs {polygons.shape[0]} polygons')
    num = pointsets.shape[0]
    if num == 0:
        return pointsets.new_zeros(0), pointsets.new_zeros((0, 18))
    quads = polygons.detach().double().reshape(num, 4, 2)
    with torch.enable_grad():
        points = pointsets.detach().double().reshape(num, 9, 2)
        points.requires_grad_(True)
        giou = _giou(points, quads)
        grad, = torch.autograd.grad(giou.sum(), points)
    return (giou.detach().to(pointsets.dtype),
            grad.reshape(num, 18).to(pointsets.dtype))

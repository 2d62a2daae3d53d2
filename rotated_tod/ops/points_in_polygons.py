"""Which points lie inside which quadrilaterals (mmcv's
``points_in_polygons``, used by rotated ATSS-style assigners), on any device.

The rule of mmcv's CUDA kernel, vectorised: a ray from the point towards +x
crosses the edges of the polygon (``(x_i, y_i) -> (x_j, y_j)`` for
``(i, j) = (0, 3), (1, 0), (2, 1), (3, 2)``); edges whose y-span does not
contain the point are skipped, an edge counts when
``(y_i < y) != (y_j < y)`` and its crossing abscissa is right of the point;
the point is inside for an odd count. As in the kernel, the scan stops at
the first edge through which the point passes exactly (a corner or a
crossing abscissa equal to ``x``), so points on the boundary keep the count
of the edges scanned before. Points off the boundary are classified
exactly. Only the pairs whose point lies in the polygon's bounding box are
scanned (outside it the count is even).
"""
import torch

#: Point x polygon pairs handled at once.
PAIRS_PER_CHUNK = 1 << 22


def _inside(px: torch.Tensor, py: torch.Tensor,
            polygons: torch.Tensor) -> torch.Tensor:
    """The kernel's rule for aligned (S,) points and (S, 8) polygons."""
    crossings = torch.zeros_like(px, dtype=torch.long)
    done = torch.zeros_like(px, dtype=torch.bool)
    for i, j in ((0, 3), (1, 0), (2, 1), (3, 2)):
        sx, sy = polygons[:, 2 * i], polygons[:, 2 * i + 1]
        tx, ty = polygons[:, 2 * j], polygons[:, 2 * j + 1]
        active = ~done & (py >= torch.minimum(sy, ty)) & (
            py <= torch.maximum(sy, ty))
        corner = ((sx == px) & (sy == py)) | ((tx == px) & (ty == py))
        straddle = ((sy < py) & (ty >= py)) | ((sy >= py) & (ty < py))
        # ty != sy wherever the edge straddles; elsewhere x is unused.
        span = torch.where(straddle, ty - sy, torch.ones_like(ty - sy))
        x = sx + (py - sy) * (tx - sx) / span
        through = corner | (straddle & (x == px))
        crossings += (active & ~through & straddle & (x > px)).long()
        done |= active & through
    return crossings % 2 == 1


def points_in_polygons(points: torch.Tensor,
                       polygons: torch.Tensor) -> torch.Tensor:
    """Inside flags of points in quadrilaterals.

    Args:
        points: (P, 2) ``x, y``.
        polygons: (M, 8) ``x1, y1, ..., x4, y4``.

    Returns:
        (P, M) float32, 1 where the point is inside the polygon (the dtype
        of mmcv's op).
    """
    if points.dim() != 2 or points.shape[1] != 2:
        raise ValueError(f'points must be (P, 2), got {tuple(points.shape)}')
    if polygons.dim() != 2 or polygons.shape[1] != 8:
        raise ValueError(f'polygons must be (M, 8), got '
                         f'{tuple(polygons.shape)}')
    out = torch.zeros(points.shape[0], polygons.shape[0], dtype=torch.float32,
                      device=points.device)
    if out.numel() == 0:
        return out
    polygons = polygons.to(points.dtype)
    low_x, high_x = polygons[:, 0::2].min(1)[0], polygons[:, 0::2].max(1)[0]
    low_y, high_y = polygons[:, 1::2].min(1)[0], polygons[:, 1::2].max(1)[0]
    rows = max(1, PAIRS_PER_CHUNK // polygons.shape[0])
    for start in range(0, points.shape[0], rows):
        chunk = points[start:start + rows]
        px, py = chunk[:, 0, None], chunk[:, 1, None]
        # Outside its polygon's bounding box a point crosses an even number
        # of edges (or none): only the pairs inside the box are scanned.
        i, j = ((px >= low_x) & (px <= high_x) & (py >= low_y) &
                (py <= high_y)).nonzero(as_tuple=True)
        out[start + i, j] = _inside(chunk[i, 0], chunk[i, 1],
                                    polygons[j]).float()
    return out

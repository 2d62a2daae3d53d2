"""Exact IoU of quadrilaterals (the one polygon IoU of the package).

A quadrilateral is ``(x1, y1, ..., x4, y4)``, vertices in order, either
orientation. The IoU is

    IoU(P, Q) = I / (|A_P| + |A_Q| - I),   I = integral of w_P(x) w_Q(x) dx

where ``A`` is the shoelace (signed) area and ``w`` the winding number of the
polygon, its sign flipped when ``A < 0`` (so both polygons count as
counter-clockwise). For simple polygons (convex or not) ``I`` is the area of
``P intersect Q`` and this is the ordinary IoU. For self-intersecting
("bow-tie") quadrilaterals, which occur among hand-labelled ground truth, it
is the value of the DOTA devkit's ``polyiou.iou_poly`` (the same winding-number
product, summed there over origin triangles), so evaluation scores them as
the DOTA server does.

How ``I`` is computed, exactly up to float64 rounding: when both polygons
are convex, by Sutherland-Hodgman clipping of one by the other; otherwise
each polygon is split into its signed fan triangles ``(v1, v2, v3)`` and
``(v1, v3, v4)`` (their signed indicator functions sum to ``w``) and the
2 x 2 triangle intersections are summed with their signs. Everything is
vectorised over pairs with numpy; coordinates are shifted to a local origin
per pair before any product, so large image coordinates lose no precision.
"""
from typing import Tuple

import numpy as np

# Pairs clipped at once; bounds the temporary arrays to a few hundred MB.
CHUNK_PAIRS = 200_000


def _as_quads(polys: np.ndarray, name: str) -> np.ndarray:
    """(N, 8) float64 array, or a clear error."""
    polys = np.asarray(polys, dtype=np.float64)
    if polys.ndim != 2 or polys.shape[1] != 8:
        raise ValueError(f'{name} must have shape (N, 8), got {polys.shape}')
    return polys


def _cross(ax, ay, bx, by):
    return ax * by - ay * bx


def _shoelace(verts: np.ndarray) -> np.ndarray:
    """Signed area of (..., K, 2) closed polygons."""
    x, y = verts[..., 0], verts[..., 1]
    return 0.5 * _cross(x, y, np.roll(x, -1, -1), np.roll(y, -1, -1)).sum(-1)


def _is_convex(quads: np.ndarray, signed_area: np.ndarray) -> np.ndarray:
    """(P, 4, 2) -> (P,) True for non-degenerate convex quadrilaterals
    (every turn of the same sign; for four vertices this also excludes
    self-intersection)."""
    edges = np.roll(quads, -1, 1) - quads
    turns = _cross(edges[..., 0], edges[..., 1],
                   np.roll(edges[..., 0], -1, 1), np.roll(edges[..., 1], -1, 1))
    return (signed_area != 0) & ((turns >= 0).all(1) | (turns <= 0).all(1))


def _counter_clockwise(verts: np.ndarray, signed_area: np.ndarray) -> np.ndarray:
    """Reverse the vertex order of the rows with negative signed area."""
    return np.where((signed_area < 0)[:, None, None], verts[:, ::-1], verts)


def _clip_area(subject: np.ndarray, clipper: np.ndarray) -> np.ndarray:
    """Area of ``subject intersect clipper`` for P pairs.

    Args:
        subject: (P, K, 2) convex polygons, any orientation; repeated
            vertices are allowed (they pad shorter polygons).
        clipper: (P, M, 2) convex polygons, counter-clockwise; zero-length
            edges (repeated vertices) clip nothing.

    Returns:
        (P,) unsigned areas.

    Sutherland-Hodgman: each clipper edge ``a -> b`` keeps the half-plane
    ``cross(b - a, p - a) >= 0``. A convex polygon cut by a half-plane gains
    at most one vertex, so K grows by at most one per edge; output rows are
    padded by repeating their last vertex (an empty result collapses to one
    point, area 0).
    """
    poly = subject
    num = len(poly)
    rows = np.arange(num)
    for e in range(clipper.shape[1]):
        a = clipper[:, e, None, :]
        edge = clipper[:, (e + 1) % clipper.shape[1], None, :] - a
        dist = _cross(edge[..., 0], edge[..., 1], poly[..., 0] - a[..., 0],
                      poly[..., 1] - a[..., 1])
        nxt, dist_nxt = np.roll(poly, -1, 1), np.roll(dist, -1, 1)
        inside = dist >= 0
        crossing = inside != (dist_nxt >= 0)
        # crossing implies dist != dist_nxt: no division by zero.
        t = dist / np.where(crossing, dist - dist_nxt, 1.0)
        hit = poly + t[..., None] * (nxt - poly)
        width = poly.shape[1]
        cand = np.stack([poly, hit], 2).reshape(num, 2 * width, 2)
        keep = np.stack([inside, crossing], 2).reshape(num, 2 * width)
        count = keep.sum(1)
        new_width = max(int(count.max()), 1)
        slot = np.cumsum(keep, 1) - 1
        out = np.zeros((num, new_width, 2))
        r, c = np.nonzero(keep)
        out[r, slot[r, c]] = cand[r, c]
        last = np.maximum(count - 1, 0)
        pad = np.arange(new_width)[None, :] > last[:, None]
        out = np.where(pad[..., None], out[rows, last][:, None, :], out)
        poly = out
    return np.abs(_shoelace(poly))


def _fan_triangles(quads: np.ndarray,
                   orient: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Split (P, 4, 2) quads into fan triangles ``(v1, v2, v3)``, ``(v1, v3, v4)``.

    Returns:
        tris: (P, 2, 4, 2) counter-clockwise triangles padded to 4 vertices.
        signs: (P, 2) orientation of each triangle times ``orient`` (the
            polygon's own orientation flip), 0 for degenerate triangles.
    """
    tris, signs = [], []
    for i, j in ((1, 2), (2, 3)):
        tri = np.stack([quads[:, 0], quads[:, i], quads[:, j], quads[:, j]], 1)
        area = _shoelace(tri)
        tris.append(_counter_clockwise(tri, area))
        signs.append(np.sign(area) * orient)
    return np.stack(tris, 1), np.stack(signs, 1)


def _intersection_aligned(p: np.ndarray, q: np.ndarray, area_p: np.ndarray,
                          area_q: np.ndarray) -> np.ndarray:
    """``I`` of the module docstring for (P, 4, 2) pairs in local coordinates."""
    inter = np.zeros(len(p))
    convex = _is_convex(p, area_p) & _is_convex(q, area_q)
    if convex.any():
        inter[convex] = _clip_area(
            p[convex], _counter_clockwise(q[convex], area_q[convex]))
    general = ~convex
    if general.any():
        orient_p = np.where(area_p[general] < 0, -1.0, 1.0)
        orient_q = np.where(area_q[general] < 0, -1.0, 1.0)
        tris_p, signs_p = _fan_triangles(p[general], orient_p)
        tris_q, signs_q = _fan_triangles(q[general], orient_q)
        total = np.zeros(int(general.sum()))
        for i in range(2):
            for j in range(2):
                sign = signs_p[:, i] * signs_q[:, j]
                total += sign * _clip_area(tris_p[:, i], tris_q[:, j])
        inter[general] = total
    return inter


def polygon_iou_aligned(polys1: np.ndarray, polys2: np.ndarray) -> np.ndarray:
    """IoU of row i of ``polys1`` with row i of ``polys2``.

    Args:
        polys1, polys2: (N, 8) quadrilaterals ``x1 y1 ... x4 y4``.

    Returns:
        (N,) float64 IoU (see the module docstring); 0 where the union is
        not positive (possible for degenerate or self-intersecting shapes
        only; the devkit's quotient is then negative, or undefined at a
        union of exactly 0).
    """
    polys1 = _as_quads(polys1, 'polys1')
    polys2 = _as_quads(polys2, 'polys2')
    if len(polys1) != len(polys2):
        raise ValueError(f'aligned IoU needs as many rows in polys1 '
                         f'({len(polys1)}) as in polys2 ({len(polys2)})')
    out = np.zeros(len(polys1))
    for start in range(0, len(polys1), CHUNK_PAIRS):
        stop = start + CHUNK_PAIRS
        p = polys1[start:stop].reshape(-1, 4, 2)
        q = polys2[start:stop].reshape(-1, 4, 2)
        origin = q[:, :1, :]
        p, q = p - origin, q - origin
        area_p, area_q = _shoelace(p), _shoelace(q)
        inter = _intersection_aligned(p, q, area_p, area_q)
        union = np.abs(area_p) + np.abs(area_q) - inter
        out[start:stop] = np.where(union > 0, inter / np.where(union > 0, union, 1.0),
                                   0.0)
    return out


def polygon_bounds(polys: np.ndarray) -> np.ndarray:
    """(N, 8) quadrilaterals -> (N, 4) enclosing ``xmin ymin xmax ymax``."""
    p = _as_quads(polys, 'polys')
    # column by column: numpy reduces a long axis much faster than 4-wide rows
    return np.stack([
        np.minimum(np.minimum(p[:, 0], p[:, 2]), np.minimum(p[:, 4], p[:, 6])),
        np.minimum(np.minimum(p[:, 1], p[:, 3]), np.minimum(p[:, 5], p[:, 7])),
        np.maximum(np.maximum(p[:, 0], p[:, 2]), np.maximum(p[:, 4], p[:, 6])),
        np.maximum(np.maximum(p[:, 1], p[:, 3]), np.maximum(p[:, 5], p[:, 7]))
    ], 1)


def bounds_overlap(bounds1: np.ndarray, bounds2: np.ndarray) -> np.ndarray:
    """Do ``xmin ymin xmax ymax`` boxes overlap with positive area?
    (..., 4) arrays broadcast against each other. Polygons whose bounds do
    not overlap have IoU 0."""
    return ((np.minimum(bounds1[..., 2], bounds2[..., 2]) >
             np.maximum(bounds1[..., 0], bounds2[..., 0])) &
            (np.minimum(bounds1[..., 3], bounds2[..., 3]) >
             np.maximum(bounds1[..., 1], bounds2[..., 1])))


def polygon_iou(polys1: np.ndarray, polys2: np.ndarray) -> np.ndarray:
    """Pairwise IoU of quadrilaterals.

    Args:
        polys1: (N, 8) quadrilaterals.
        polys2: (M, 8) quadrilaterals.

    Returns:
        (N, M) float64 IoU; only pairs whose axis-aligned bounds overlap are
        clipped, the others are 0.
    """
    polys1 = _as_quads(polys1, 'polys1')
    polys2 = _as_quads(polys2, 'polys2')
    out = np.zeros((len(polys1), len(polys2)))
    if out.size == 0:
        return out
    rows, cols = np.nonzero(
        bounds_overlap(polygon_bounds(polys1)[:, None],
                       polygon_bounds(polys2)[None]))
    out[rows, cols] = polygon_iou_aligned(polys1[rows], polys2[cols])
    return out

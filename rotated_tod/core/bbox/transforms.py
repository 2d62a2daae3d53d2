"""Oriented box conversions shared by the whole package.

Boxes are ``(cx, cy, w, h, theta)`` (mmrotate ``xywha``, radians); polygons
are ``(x1, y1, ..., x4, y4)``. Both numpy arrays and torch tensors are taken.
"""
from typing import Union

import cv2
import numpy as np
import torch

Array = Union[np.ndarray, torch.Tensor]

ANGLE_VERSIONS = ('oc', 'le90', 'le135')


def rbox_to_polygon(boxes: Array) -> Array:
    """(..., 5) boxes -> (..., 8) corners, in the order
    ``c + R(theta) (-w/2,-h/2), (w/2,-h/2), (w/2,h/2), (-w/2,h/2)``."""
    lib = torch if isinstance(boxes, torch.Tensor) else np
    cx, cy, w, h, a = (boxes[..., i] for i in range(5))
    cos, sin = lib.cos(a), lib.sin(a)
    wx, wy = w / 2 * cos, w / 2 * sin
    hx, hy = -h / 2 * sin, h / 2 * cos
    corners = [
        cx - wx - hx, cy - wy - hy, cx + wx - hx, cy + wy - hy,
        cx + wx + hx, cy + wy + hy, cx - wx + hx, cy - wy + hy
    ]
    return lib.stack(corners, -1)


def rbox_to_hbox(boxes: Array) -> Array:
    """(..., 5) boxes -> (..., 4) enclosing axis-aligned ``x1 y1 x2 y2``."""
    poly = rbox_to_polygon(boxes)
    xs, ys = poly[..., 0::2], poly[..., 1::2]
    if isinstance(poly, torch.Tensor):
        return torch.stack([xs.min(-1)[0], ys.min(-1)[0],
                            xs.max(-1)[0], ys.max(-1)[0]], -1)
    return np.stack([xs.min(-1), ys.min(-1), xs.max(-1), ys.max(-1)], -1)


def as_polygons(boxes_or_polys: np.ndarray) -> np.ndarray:
    """(N, 5) ``xywha`` boxes or (N, 8) polygons -> (N, 8) float64 polygons
    (:func:`rbox_to_polygon` of boxes; polygons as they are)."""
    arr = np.asarray(boxes_or_polys, np.float64)
    if arr.size == 0:
        return np.zeros((0, 8))
    if arr.ndim != 2 or arr.shape[1] not in (5, 8):
        raise ValueError(f'expected (N, 5) boxes or (N, 8) polygons, got '
                         f'{arr.shape}')
    return rbox_to_polygon(arr) if arr.shape[1] == 5 else arr


def normalize_angle(boxes: np.ndarray, version: str = 'le90') -> np.ndarray:
    """Rewrite (N, 5) boxes with ``w >= h`` and ``theta in [-pi/2, pi/2)``
    into the convention ``version`` (the same rectangles)."""
    if version not in ANGLE_VERSIONS:
        raise ValueError(f'angle version must be one of {ANGLE_VERSIONS}')
    out = np.array(boxes, dtype=np.float64, copy=True).reshape(-1, 5)
    if version == 'le135':
        low = out[:, 4] < -np.pi / 4
        out[low, 4] += np.pi
    elif version == 'oc':
        swap = out[:, 4] <= 0
        out[swap, 2], out[swap, 3] = out[swap, 3].copy(), out[swap, 2].copy()
        out[swap, 4] += np.pi / 2
    return out


def regularize_rboxes(boxes: Array, version: str = 'le90') -> Array:
    """(..., 5) boxes with any sides and angle -> the same rectangles in the
    convention ``version``: ``le90`` ``w >= h`` and ``theta in [-pi/2,
    pi/2)``; ``le135`` ``w >= h`` and ``theta in [-pi/4, 3 pi/4)``; ``oc``
    as :func:`normalize_angle`. numpy or torch; dtype and device kept."""
    if version not in ANGLE_VERSIONS:
        raise ValueError(f'angle version must be one of {ANGLE_VERSIONS}')
    lib = torch if isinstance(boxes, torch.Tensor) else np
    cx, cy, w, h, a = (boxes[..., i] for i in range(5))
    swap = w < h
    w, h, a = lib.where(swap, h, w), lib.where(swap, w, h), lib.where(
        swap, a + np.pi / 2, a)
    a = (a + np.pi / 2) % np.pi - np.pi / 2
    if version == 'le135':
        a = lib.where(a < -np.pi / 4, a + np.pi, a)
    elif version == 'oc':
        swap = a <= 0
        w, h, a = lib.where(swap, h, w), lib.where(swap, w, h), lib.where(
            swap, a + np.pi / 2, a)
    return lib.stack([cx, cy, w, h, a], -1)


def polygon_to_rbox(polys: np.ndarray, version: str = 'le90') -> np.ndarray:
    """(N, 8) quadrilaterals -> (N, 5) minimum-area rotated rectangles.

    Unlike mmrotate's ``poly2obb_np`` no box is dropped: sides shorter than
    one pixel are raised to one pixel, so tiny objects survive.
    """
    polys = np.asarray(polys, dtype=np.float64).reshape(-1, 8)
    out = np.zeros((len(polys), 5), np.float64)
    for i, poly in enumerate(polys):
        (x, y), (w, h), a = cv2.minAreaRect(
            poly.reshape(4, 2).astype(np.float32))
        a = np.deg2rad(a)
        if w < h:
            w, h, a = h, w, a + np.pi / 2
        a = (a + np.pi / 2) % np.pi - np.pi / 2
        out[i] = (x, y, max(w, 1.0), max(h, 1.0), a)
    return normalize_angle(out, version)

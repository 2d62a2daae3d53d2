"""points_in_polygons against shapely (off the boundary) and mmcv's kernel
rule (on it)."""
import importlib

import numpy as np
import torch
from shapely.geometry import Point

from rotated_tod.ops import points_in_polygons

from .shapely_reference import quad, random_rboxes, rbox_polygon

ARROW = [0, 0, 10, 5, 0, 10, 4, 5]  # non-convex


def test_random_points_match_shapely(monkeypatch):
    rng = np.random.default_rng(0)
    polys = [rbox_polygon(*b) for b in random_rboxes(rng, 30)]
    coords = np.array([np.asarray(p.exterior.coords)[:4].ravel()
                       for p in polys] + [ARROW])
    shapes = polys + [quad(ARROW)]
    points = rng.uniform(-5, 25, (300, 2))
    want = np.array([[s.contains(Point(p)) for s in shapes] for p in points])
    # float32 rounding moves the corners (<= 40 px) by <= 4e-6 px: points
    # that close to an edge could change sides.
    near = np.array([[s.exterior.distance(Point(p)) < 1e-4 for s in shapes]
                     for p in points])
    assert want.sum() > 100 and not near.any()
    got = points_in_polygons(torch.from_numpy(points).float(),
                             torch.from_numpy(coords).float())
    assert got.dtype == torch.float32 and got.shape == (300, 31)
    np.testing.assert_array_equal(got.numpy(), want)
    module = importlib.import_module('rotated_tod.ops.points_in_polygons')
    monkeypatch.setattr(module, 'PAIRS_PER_CHUNK', 7)
    chunked = points_in_polygons(torch.from_numpy(points).float(),
                                 torch.from_numpy(coords).float())
    assert torch.equal(chunked, got)


def test_boundary_follows_the_kernel_rule():
    # Square (0, 0), (10, 0), (10, 10), (0, 10). The kernel scans the
    # edges (0 -> 3), (1 -> 0), (2 -> 1), (3 -> 2); an edge counts when
    # its y-span is half-open around the point's y and it crosses right of
    # the point, and the scan stops at a corner or an exact crossing.
    square = torch.tensor([[0, 0, 10, 0, 10, 10, 0, 10]], dtype=torch.float32)
    points = torch.tensor([
        [5, 5],  # inside
        [5, 0],  # bottom edge: no edge straddles y = 0 -> outside
        [5, 10],  # top edge: edge (2 -> 1) straddles and crosses -> inside
        [0, 0],  # a corner: stops before any crossing -> outside
        [0, 5],  # left edge: the first edge passes through it -> outside
        [10, 5],  # right edge: edge (0 -> 3) is left of it, (2 -> 1)
        # passes through it: stop with no crossing -> outside
        [-1, 5], [11, 5], [5, -1], [5, 11],  # outside
    ], dtype=torch.float32)
    got = points_in_polygons(points, square)[:, 0]
    assert got.tolist() == [1, 0, 1, 0, 0, 0, 0, 0, 0, 0]


def test_empty():
    assert points_in_polygons(torch.zeros(0, 2), torch.zeros(3, 8)).shape \
        == (0, 3)
    assert points_in_polygons(torch.zeros(4, 2), torch.zeros(0, 8)).shape \
        == (4, 0)

"""min_area_polygons against cv2.minAreaRect (up to vertex order)."""
import cv2
import numpy as np
import pytest
import torch

from rotated_tod.ops import min_area_polygons


def corner_distance(ours, theirs):
    """Largest distance from a corner of one rectangle to the nearest
    corner of the other (0 when they are the same up to vertex order)."""
    d = np.linalg.norm(ours[:, None] - theirs[None], axis=-1)
    return max(d.min(0).max(), d.min(1).max())


def test_random_point_sets_match_cv2():
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 100, (200, 1, 2))
    scale = rng.uniform(0.5, 20, (200, 1, 2))
    points = (centres + rng.normal(0, 1, (200, 9, 2)) * scale).astype(
        np.float32)
    got = min_area_polygons(torch.from_numpy(points.reshape(200, 18)))
    assert got.dtype == torch.float32
    got = got.double().numpy().reshape(200, 4, 2)
    for ours, pts in zip(got, points):
        rect = cv2.minAreaRect(pts)
        theirs = cv2.boxPoints(rect).astype(np.float64)
        area = rect[1][0] * rect[1][1]
        edges = np.roll(ours, -1, 0) - ours
        # a rectangle, traversed corner to corner
        assert abs(edges[0] @ edges[1]) <= 1e-3 * (edges[0] @ edges[0] +
                                                   edges[1] @ edges[1])
        ours_area = np.linalg.norm(edges[0]) * np.linalg.norm(edges[1])
        # cv2 works in float32 with its own rotating calipers: areas agree
        # to float32 rounding of coordinates up to ~160 px.
        assert ours_area == pytest.approx(area, rel=1e-4, abs=1e-3)
        # The minimum can be attained by two rectangles (a tie between
        # edges); the corners must agree whenever it is unique.
        if corner_distance(ours, theirs) > 1e-2:
            second = cv2.minAreaRect(pts[::-1].copy())
            assert ours_area == pytest.approx(second[1][0] * second[1][1],
                                              rel=1e-4, abs=1e-3)


def test_hand_built_sets():
    square = [0, 0, 4, 0, 4, 4, 0, 4]
    sets = torch.tensor([
        # corners of an axis-aligned square, repeated, plus inner points
        square + square[:8] + [2, 2],
        # a diamond (a square turned 45 degrees) with its centre
        [2, 0, 4, 2, 2, 4, 0, 2] * 2 + [2, 2],
        # nine collinear points: a rectangle of zero width
        [k for i in range(9) for k in (i, 2 * i)],
        # one point repeated
        [3, 5] * 9,
    ], dtype=torch.float64)
    got = min_area_polygons(sets).numpy().reshape(4, 4, 2)
    assert corner_distance(got[0], np.array(square, float).reshape(4, 2)) \
        < 1e-12
    diamond = np.array([2, 0, 4, 2, 2, 4, 0, 2], float).reshape(4, 2)
    assert corner_distance(got[1], diamond) < 1e-12
    line = sets[2].numpy().reshape(9, 2)
    assert corner_distance(got[2], line[[0, 8, 8, 0]]) < 1e-9
    np.testing.assert_allclose(got[3], [[3, 5]] * 4, atol=1e-12)
    # mmcv's corner order: (xmax, ymin), (xmin, ymin), (xmin, ymax),
    # (xmax, ymax) in the rectangle's frame; for the square that frame is
    # the image's.
    np.testing.assert_allclose(got[0], [[4, 0], [0, 0], [0, 4], [4, 4]],
                               atol=1e-12)
    assert min_area_polygons(sets[:0]).shape == (0, 8)

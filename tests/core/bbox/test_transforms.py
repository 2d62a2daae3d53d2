import numpy as np
import pytest
import torch
from shapely.geometry import Polygon

from rotated_tod.core.bbox.transforms import (
    normalize_angle,
    obb2hbb,
    obb2poly,
    poly2obb_np,
)


def random_boxes(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([
        rng.uniform(0, 500, n), rng.uniform(0, 500, n),
        rng.uniform(2, 80, n), rng.uniform(2, 80, n),
        rng.uniform(-np.pi / 2, np.pi / 2, n)
    ], 1)


def test_obb2poly_is_the_rotated_rectangle():
    boxes = random_boxes(50)
    polys = obb2poly(boxes)
    for box, poly in zip(boxes, polys):
        shape = Polygon(poly.reshape(4, 2))
        assert shape.area == pytest.approx(box[2] * box[3], rel=1e-9)
        assert shape.centroid.x == pytest.approx(box[0])
        edge = poly[2:4] - poly[0:2]
        assert np.arctan2(edge[1], edge[0]) == pytest.approx(box[4])


def test_numpy_and_torch_agree():
    boxes = random_boxes(20)
    assert np.allclose(obb2poly(torch.from_numpy(boxes)).numpy(),
                       obb2poly(boxes))
    assert np.allclose(obb2hbb(torch.from_numpy(boxes)).numpy(),
                       obb2hbb(boxes))


def test_obb2hbb_encloses_the_polygon():
    boxes = random_boxes(30)
    hbb, poly = obb2hbb(boxes), obb2poly(boxes)
    assert np.allclose(hbb[:, 0], poly[:, 0::2].min(1))
    assert np.allclose(hbb[:, 3], poly[:, 1::2].max(1))
    axis = np.array([[10., 20, 8, 4, 0]])
    assert np.allclose(obb2hbb(axis), [[6, 18, 14, 22]])


@pytest.mark.parametrize('version, low, high', [('le90', -np.pi / 2,
                                                   np.pi / 2),
                                                  ('le135', -np.pi / 4,
                                                   3 * np.pi / 4),
                                                  ('oc', 0, np.pi / 2 + 1e-9)])
def test_poly2obb_round_trip_in_each_convention(version, low, high):
    boxes = random_boxes(100, seed=1)
    out = poly2obb_np(obb2poly(boxes), version)
    assert np.all(out[:, 4] >= low - 1e-6) and np.all(out[:, 4] < high)
    # Same rectangles: identical corner sets up to order.
    back = obb2poly(out)
    for p, q in zip(obb2poly(boxes), back):
        a = Polygon(p.reshape(4, 2))
        b = Polygon(q.reshape(4, 2))
        assert a.symmetric_difference(b).area < 1e-2 * a.area


def test_poly2obb_keeps_tiny_objects():
    tiny = obb2poly(np.array([[50., 50, 1.2, 0.4, 0.3]]))
    out = poly2obb_np(tiny)
    assert out.shape == (1, 5) and out[0, 3] == 1.0 and out[0, 2] >= 1.0


def test_normalize_angle_rejects_unknown_version():
    with pytest.raises(ValueError, match='angle version'):
        normalize_angle(np.zeros((1, 5)), 'le45')

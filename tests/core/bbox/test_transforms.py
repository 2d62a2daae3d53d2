import numpy as np
import pytest
import torch
from shapely.geometry import Polygon

from rotated_tod.core.bbox.transforms import (
    as_polygons,
    normalize_angle,
    polygon_to_rbox,
    rbox_to_hbox,
    rbox_to_polygon,
)


def random_boxes(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([
        rng.uniform(0, 500, n), rng.uniform(0, 500, n),
        rng.uniform(2, 80, n), rng.uniform(2, 80, n),
        rng.uniform(-np.pi / 2, np.pi / 2, n)
    ], 1)


def test_rbox_to_polygon_is_the_rotated_rectangle():
    boxes = random_boxes(50)
    polys = rbox_to_polygon(boxes)
    for box, poly in zip(boxes, polys):
        shape = Polygon(poly.reshape(4, 2))
        assert shape.area == pytest.approx(box[2] * box[3], rel=1e-9)
        assert shape.centroid.x == pytest.approx(box[0])
        edge = poly[2:4] - poly[0:2]
        assert np.arctan2(edge[1], edge[0]) == pytest.approx(box[4])


def test_numpy_and_torch_agree():
    boxes = random_boxes(20)
    assert np.allclose(rbox_to_polygon(torch.from_numpy(boxes)).numpy(),
                       rbox_to_polygon(boxes))
    assert np.allclose(rbox_to_hbox(torch.from_numpy(boxes)).numpy(),
                       rbox_to_hbox(boxes))


def test_rbox_to_hbox_encloses_the_polygon():
    boxes = random_boxes(30)
    hbb, poly = rbox_to_hbox(boxes), rbox_to_polygon(boxes)
    assert np.allclose(hbb[:, 0], poly[:, 0::2].min(1))
    assert np.allclose(hbb[:, 3], poly[:, 1::2].max(1))
    axis = np.array([[10., 20, 8, 4, 0]])
    assert np.allclose(rbox_to_hbox(axis), [[6, 18, 14, 22]])


@pytest.mark.parametrize('version, low, high', [('le90', -np.pi / 2,
                                                   np.pi / 2),
                                                  ('le135', -np.pi / 4,
                                                   3 * np.pi / 4),
                                                  ('oc', 0, np.pi / 2 + 1e-9)])
def test_polygon_to_rbox_round_trip_in_each_convention(version, low, high):
    boxes = random_boxes(100, seed=1)
    out = polygon_to_rbox(rbox_to_polygon(boxes), version)
    assert np.all(out[:, 4] >= low - 1e-6) and np.all(out[:, 4] < high)
    # Same rectangles: identical corner sets up to order.
    back = rbox_to_polygon(out)
    for p, q in zip(rbox_to_polygon(boxes), back):
        a = Polygon(p.reshape(4, 2))
        b = Polygon(q.reshape(4, 2))
        assert a.symmetric_difference(b).area < 1e-2 * a.area


def test_polygon_to_rbox_keeps_tiny_objects():
    tiny = rbox_to_polygon(np.array([[50., 50, 1.2, 0.4, 0.3]]))
    out = polygon_to_rbox(tiny)
    assert out.shape == (1, 5) and out[0, 3] == 1.0 and out[0, 2] >= 1.0


def test_normalize_angle_rejects_unknown_version():
    with pytest.raises(ValueError, match='angle version'):
        normalize_angle(np.zeros((1, 5)), 'le45')


def test_as_polygons_takes_boxes_or_polygons():
    boxes = random_boxes(4)
    np.testing.assert_array_equal(as_polygons(boxes), rbox_to_polygon(boxes))
    polys = rbox_to_polygon(boxes).astype(np.float32)
    assert as_polygons(polys).dtype == np.float64
    np.testing.assert_array_equal(as_polygons(polys), polys)
    assert as_polygons(np.zeros((0, 5))).shape == (0, 8)
    with pytest.raises(ValueError, match=r'\(N, 5\) boxes or \(N, 8\)'):
        as_polygons(np.zeros((3, 6)))

"""convex_iou / convex_giou against shapely (hull of the point set, the
quadrilateral, their enclosing hull) and finite differences."""
import importlib

import numpy as np
import pytest
import torch

from rotated_tod.ops import convex_giou, convex_iou

from .shapely_reference import hull, polygon_iou, quad, random_rboxes, rbox_polygon


def rbox_quads(rng, num):
    polys = [rbox_polygon(*b) for b in random_rboxes(rng, num)]
    return np.array([np.asarray(p.exterior.coords)[:4].ravel() for p in polys])


def random_pointsets(rng, num, spread=20.0):
    centres = rng.uniform(0, spread, (num, 1, 2))
    return (centres + rng.normal(0, 4, (num, 9, 2))).reshape(num, 18)


def reference_iou(points, polygon):
    return polygon_iou(hull(points.reshape(9, 2)), quad(polygon))


def reference_giou(points, polygon):
    shape_p, shape_q = hull(points.reshape(9, 2)), quad(polygon)
    union = shape_p.union(shape_q).area
    enclose = hull(np.concatenate([points.reshape(9, 2),
                                   polygon.reshape(4, 2)])).area
    return (shape_p.intersection(shape_q).area / union -
            (enclose - union) / enclose)


# A non-convex ("arrow head") quadrilateral and a clockwise square.
ARROW = np.array([0, 0, 10, 5, 0, 10, 4, 5], float)
CLOCKWISE = np.array([0, 0, 0, 8, 8, 8, 8, 0], float)


def test_convex_iou_matches_shapely():
    rng = np.random.default_rng(0)
    points = random_pointsets(rng, 40)
    polygons = np.concatenate([rbox_quads(rng, 8), [ARROW, CLOCKWISE]])
    want = np.array([[reference_iou(p, q) for q in polygons]
                     for p in points])
    assert (want > 0.05).sum() > 40 and (want == 0).sum() > 40
    got = convex_iou(torch.from_numpy(points), torch.from_numpy(polygons))
    assert got.shape == (40, 10) and got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-10)
    # float32 in and out (computed in float64 from float32 inputs):
    # rounding the coordinates (<= 40 px, 2e-6 px) moves IoU by < 1e-5.
    got32 = convex_iou(torch.from_numpy(points).float(),
                       torch.from_numpy(polygons).float())
    assert got32.dtype == torch.float32
    np.testing.assert_allclose(got32.numpy(), want, rtol=0, atol=1e-5)


def test_convex_iou_collinear_and_repeated_points():
    square = np.array([0, 0, 4, 0, 4, 4, 0, 4], float)
    cases = [
        # the square's corners, repeated, plus interior and edge points
        ([0, 0, 4, 0, 4, 4, 0, 4, 0, 0, 4, 4, 2, 2, 2, 0, 1, 3], 1.0),
        # all nine points on a line: the hull has no area
        ([i for k in range(9) for i in (k, k)], 0.0),
        # one point nine times
        ([1, 1] * 9, 0.0),
        # the left half of the square, with collinear points on its edges
        ([0, 0, 1, 0, 2, 0, 2, 2, 2, 4, 1, 4, 0, 4, 0, 2, 1, 2], 0.5),
    ]
    points = torch.tensor([c for c, _ in cases], dtype=torch.float64)
    got = convex_iou(points, torch.from_numpy(square)[None])[:, 0]
    np.testing.assert_allclose(got.numpy(), [w for _, w in cases], atol=1e-12)


def test_convex_iou_chunks_give_the_same_result(monkeypatch):
    rng = np.random.default_rng(1)
    points = torch.from_numpy(random_pointsets(rng, 30))
    polygons = torch.from_numpy(rbox_quads(rng, 7))
    whole = convex_iou(points, polygons)
    # the package exports the function under the module's name
    module = importlib.import_module('rotated_tod.ops.convex_iou')
    monkeypatch.setattr(module, 'PAIRS_PER_CHUNK', 8)
    # same pairs, other padding: equal up to the summation order
    torch.testing.assert_close(convex_iou(points, polygons), whole, rtol=0,
                               atol=1e-14)
    assert convex_iou(points[:0], polygons).shape == (0, 7)


def test_convex_giou_matches_shapely_and_finite_differences():
    rng = np.random.default_rng(2)
    points = random_pointsets(rng, 24)
    polygons = np.concatenate([rbox_quads(rng, 22), [ARROW, CLOCKWISE]])
    giou, grad = convex_giou(torch.from_numpy(points),
                             torch.from_numpy(polygons))
    want = np.array([reference_giou(p, q) for p, q in zip(points, polygons)])
    assert want.min() < 0 < want.max()
    np.testing.assert_allclose(giou.numpy(), want, rtol=0, atol=1e-10)
    # central differences of the float64 value; the truncation error is
    # O(h^2 * curvature) ~ 1e-10 for h = 1e-5 on these scales.
    h = 1e-5
    numeric = np.zeros_like(points)
    for k in range(18):
        step = np.zeros(18)
        step[k] = h
        plus = convex_giou(torch.from_numpy(points + step),
                           torch.from_numpy(polygons))[0].numpy()
        minus = convex_giou(torch.from_numpy(points - step),
                            torch.from_numpy(polygons))[0].numpy()
        numeric[:, k] = (plus - minus) / (2 * h)
    np.testing.assert_allclose(grad.numpy(), numeric, rtol=0, atol=1e-6)


def test_convex_giou_interior_points_get_no_gradient():
    # a square of corner points around five interior points, inside a
    # larger square: GIoU = IoU = 16 / 64
    points = torch.tensor([[2, 2, 6, 2, 6, 6, 2, 6, 4, 4, 3, 3, 5, 5, 3, 5,
                            4, 3]], dtype=torch.float32)
    polygon = torch.tensor([[0, 0, 8, 0, 8, 8, 0, 8]], dtype=torch.float32)
    giou, grad = convex_giou(points, polygon)
    assert giou.dtype == grad.dtype == torch.float32
    assert giou.item() == pytest.approx(0.25)
    assert torch.equal(grad[0, 8:], torch.zeros(10))
    # moving the corner (6, 2) right by d adds the triangle
    # (6, 2), (6 + d, 2), (6, 6) of area 2 d to the hull and to I, and
    # leaves U = |H| + |Q| - I unchanged: dGIoU/dx = 2 / 64.
    assert grad[0, 2].item() == pytest.approx(2 / 64)
    assert grad[0, 3].item() == pytest.approx(-2 / 64)  # and down


def test_shape_errors():
    with pytest.raises(ValueError, match='18'):
        convex_iou(torch.zeros(2, 16), torch.zeros(3, 8))
    with pytest.raises(ValueError, match='pairs'):
        convex_giou(torch.zeros(2, 18), torch.zeros(3, 8))


def test_giou_gradcheck_float64():
    """The differentiable GIoU behind convex_giou's returned gradient."""
    module = importlib.import_module('rotated_tod.ops.convex_iou')
    rng = np.random.default_rng(3)
    points = torch.from_numpy(random_pointsets(rng, 6, spread=8)).reshape(
        6, 9, 2).requires_grad_()
    quads = torch.from_numpy(rbox_quads(rng, 6)).reshape(6, 4, 2)
    assert torch.autograd.gradcheck(lambda p: module._giou(p, quads),
                                    (points, ))
    _, grad = convex_giou(points.detach().reshape(6, 18),
                          quads.reshape(6, 8))
    want, = torch.autograd.grad(module._giou(points, quads).sum(), points)
    torch.testing.assert_close(grad, want.reshape(6, 18), rtol=0, atol=0)

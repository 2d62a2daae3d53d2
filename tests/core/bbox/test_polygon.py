import numpy as np
import pytest
import shapely

from rotated_tod.core.bbox.polygon import polygon_iou, polygon_iou_aligned
from rotated_tod.core.bbox.transforms import rbox_to_polygon
from tests.core.evaluation.devkit_reference import devkit_intersection_union

SQUARE = np.array([[0, 0, 2, 0, 2, 2, 0, 2]], np.float64)


def shapely_iou(polys1, polys2):
    """(N, M) IoU by GEOS (shapely's vectorised intersection)."""
    a = shapely.polygons(np.reshape(polys1, (-1, 4, 2)))[:, None]
    b = shapely.polygons(np.reshape(polys2, (-1, 4, 2)))[None, :]
    inter = shapely.area(shapely.intersection(a, b))
    return inter / (shapely.area(a) + shapely.area(b) - inter)


def random_convex_quads(rng, n, offset=0.0):
    """Rotated rectangles and general convex quadrilaterals (random points
    on an ellipse, in angular order)."""
    boxes = np.column_stack([
        rng.uniform(0, 30, n) + offset, rng.uniform(0, 30, n) + offset,
        rng.uniform(2, 25, n), rng.uniform(2, 25, n),
        rng.uniform(-np.pi, np.pi, n)])
    rects = rbox_to_polygon(boxes)
    angles = np.sort(rng.uniform(0, 2 * np.pi, (n, 4)), 1)
    cx, cy = rng.uniform(0, 30, (2, n, 1)) + offset
    rx, ry = rng.uniform(3, 15, (2, n, 1))
    quads = np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)],
                     -1).reshape(n, 8)
    return np.concatenate([rects, quads])


def random_darts(rng, n):
    """Non-convex simple quadrilaterals: a triangle with one vertex pushed
    inwards (the reflex vertex at a random position of the vertex order)."""
    out = []
    for _ in range(n):
        tri = rng.uniform(0, 30, (3, 2))
        u, v = tri[1] - tri[0], tri[2] - tri[0]
        while abs(u[0] * v[1] - u[1] * v[0]) < 20:
            tri = rng.uniform(0, 30, (3, 2))
            u, v = tri[1] - tri[0], tri[2] - tri[0]
        inner = 0.2 * tri[0] + 0.4 * tri[1] + 0.4 * tri[2]
        quad = np.array([tri[0], tri[1], inner, tri[2]])
        quad = np.roll(quad, rng.integers(4), 0)
        out.append(quad.reshape(8))
    return np.array(out)


def test_closed_forms():
    shifted = SQUARE + 1
    assert polygon_iou(SQUARE, shifted)[0, 0] == pytest.approx(1 / 7, abs=1e-15)
    half = np.array([[0, 0, 2, 0, 2, 1, 0, 1]], np.float64)
    assert polygon_iou(SQUARE, half)[0, 0] == 0.5
    assert polygon_iou(SQUARE, SQUARE)[0, 0] == 1.0
    assert polygon_iou(SQUARE, SQUARE + 5)[0, 0] == 0.0
    # touching along an edge: no area in common
    assert polygon_iou(SQUARE, SQUARE + [2, 0] * 4)[0, 0] == 0.0
    # a dart (reflex vertex (1, 1)) of area 4 against the square: the part
    # of the square outside the dart is the quadrilateral
    # (2, 2/3), (1, 1), (2/3, 2), (2, 2) of area 4/3, so I = 8/3, U = 16/3.
    dart = np.array([[0, 0, 4, 0, 1, 1, 0, 4]], np.float64)
    assert polygon_iou(dart, SQUARE)[0, 0] == pytest.approx(0.5, abs=1e-14)


def test_vertex_order_and_symmetry():
    rng = np.random.default_rng(0)
    polys = np.concatenate([random_convex_quads(rng, 20), random_darts(rng, 20)])
    base = polygon_iou(polys, polys[::-1])
    reverse = polys.reshape(-1, 4, 2)[:, ::-1].reshape(-1, 8)
    rolled = np.roll(polys.reshape(-1, 4, 2), 1, 1).reshape(-1, 8)
    np.testing.assert_allclose(polygon_iou(reverse, polys[::-1]), base, atol=1e-12)
    np.testing.assert_allclose(polygon_iou(rolled, polys[::-1]), base, atol=1e-12)
    np.testing.assert_allclose(polygon_iou(polys[::-1], polys), base.T, atol=1e-12)


@pytest.mark.parametrize('offset', [0.0, 1e4])
def test_matches_shapely_on_simple_quadrilaterals(offset):
    rng = np.random.default_rng(1)
    polys = np.concatenate(
        [random_convex_quads(rng, 25, offset), random_darts(rng, 40) + offset])
    ours = polygon_iou(polys, polys)
    expected = shapely_iou(polys, polys)
    assert (expected > 0.05).sum() > 300  # plenty of real overlaps
    np.testing.assert_allclose(ours, expected, atol=1e-9)


def test_aligned_equals_pairwise_diagonal():
    rng = np.random.default_rng(2)
    p = random_convex_quads(rng, 50)
    q = p + rng.normal(0, 2, p.shape)
    np.testing.assert_allclose(polygon_iou_aligned(p, q),
                               np.diag(polygon_iou(p, q)), atol=1e-15)


def test_bow_tie_follows_the_winding_number_definition():
    # (0,0) (6,3) (6,0) (0,2) crosses itself at (2.4, 1.2); shoelace area -3,
    # so the devkit reverses it: the right lobe counts +1, the left lobe -1.
    bow = np.array([[0, 0, 6, 3, 6, 0, 0, 2]], np.float64)
    left = shapely.Polygon([(0, 0), (2.4, 1.2), (0, 2)])
    right = shapely.Polygon([(2.4, 1.2), (6, 3), (6, 0)])
    rect = np.array([[1, 0.5, 5, 0.5, 5, 2.5, 1, 2.5]], np.float64)
    r = shapely.Polygon(rect.reshape(4, 2))
    inter = right.intersection(r).area - left.intersection(r).area
    expected = inter / (3.0 + r.area - inter)
    assert polygon_iou(bow, rect)[0, 0] == pytest.approx(expected, abs=1e-12)
    assert polygon_iou(rect, bow)[0, 0] == pytest.approx(expected, abs=1e-12)
    # against itself shifted: the four lobe pairs with their signs
    shift = np.array([1.0, 0.5])
    lobes = [(right, 1.0), (left, -1.0)]
    moved = [(shapely.affinity.translate(g, *shift), s) for g, s in lobes]
    inter = sum(s * t * g.intersection(h).area for g, s in lobes for h, t in moved)
    expected = inter / (6.0 - inter)
    assert polygon_iou(bow, bow + np.tile(shift, 4))[0, 0] == pytest.approx(
        expected, abs=1e-12)


def test_matches_devkit_reference_including_degenerate_shapes():
    rng = np.random.default_rng(3)
    polys = np.concatenate([
        random_convex_quads(rng, 5), random_darts(rng, 10),
        rng.uniform(0, 30, (15, 8)),  # arbitrary, many self-intersecting
    ])
    ours = polygon_iou(polys, polys)
    inter, union = np.array([[devkit_intersection_union(p, q) for q in polys]
                             for p in polys]).transpose(2, 0, 1)
    # self-intersecting pairs can have a union <= 0, where the devkit's
    # quotient is <= 0 (never a match) and ours is defined as 0
    assert (union > 0).mean() > 0.9
    expected = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    np.testing.assert_allclose(ours, expected, atol=1e-9)


def test_bad_shapes_are_errors():
    with pytest.raises(ValueError, match=r'\(N, 8\)'):
        polygon_iou(np.zeros((2, 5)), SQUARE)
    with pytest.raises(ValueError, match='as many rows'):
        polygon_iou_aligned(SQUARE, np.zeros((2, 8)))
    assert polygon_iou(np.zeros((0, 8)), SQUARE).shape == (0, 1)

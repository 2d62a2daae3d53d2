"""Independent polygon references (shapely, float64) for the op tests."""
import math

import numpy as np
from shapely import affinity
from shapely.geometry import MultiPoint, Polygon, box


def rbox_polygon(x, y, w, h, theta):
    """A ``xywha`` box built by shapely's own rotation and translation."""
    shape = box(-w / 2, -h / 2, w / 2, h / 2)
    shape = affinity.rotate(shape, theta, origin=(0, 0), use_radians=True)
    return affinity.translate(shape, x, y)


def polygon_iou(a, b):
    union = a.union(b).area
    return a.intersection(b).area / union if union > 0 else 0.0


def rbox_iou(box1, box2):
    return polygon_iou(rbox_polygon(*map(float, box1)),
                       rbox_polygon(*map(float, box2)))


def hull(points):
    """shapely convex hull of an (n, 2) array (a Polygon, or the point /
    line it degenerates to)."""
    return MultiPoint([tuple(p) for p in np.asarray(points, float)]).convex_hull


def quad(coords):
    return Polygon(np.asarray(coords, float).reshape(4, 2))


def random_rboxes(rng, n, spread=20.0):
    return np.stack([
        rng.uniform(0, spread, n), rng.uniform(0, spread, n),
        rng.uniform(1, 20, n), rng.uniform(1, 20, n),
        rng.uniform(-math.pi, math.pi, n)
    ], 1)

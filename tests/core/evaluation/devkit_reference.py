"""A plain-Python reference of the DOTA devkit's Task1 evaluation, for tests.

Written from the devkit's algorithm (``polyiou.cpp`` and
``dota_evaluation_task1.voc_eval``), structured independently of the
package: polygon intersection as a signed sum of origin-triangle
intersections (each clipped with an epsilon side test), and the
per-detection greedy loop with the devkit's bounding-box prefilter.
"""
import numpy as np

EPS = 1e-8


def _side(value):
    return (value > EPS) - (value < -EPS)


def _cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (b[0] - o[0]) * (a[1] - o[1])


def _signed_area(points):
    total = 0.0
    for i, p in enumerate(points):
        q = points[(i + 1) % len(points)]
        total += p[0] * q[1] - p[1] * q[0]
    return total / 2.0


def _cut(points, a, b):
    """Keep the part of the polygon left of the line a -> b."""
    out = []
    for i, p in enumerate(points):
        q = points[(i + 1) % len(points)]
        sp, sq = _cross(a, b, p), _cross(a, b, q)
        if _side(sp) > 0:
            out.append(p)
        if _side(sp) != _side(sq):
            out.append(((p[0] * sq - q[0] * sp) / (sq - sp),
                        (p[1] * sq - q[1] * sp) / (sq - sp)))
    unique = []
    for p in out:
        if not unique or abs(p[0] - unique[-1][0]) > EPS or \
                abs(p[1] - unique[-1][1]) > EPS:
            unique.append(p)
    return unique


def _origin_triangles(a, b, c, d):
    """Signed area of triangle(O, a, b) intersect triangle(O, c, d)."""
    origin = (0.0, 0.0)
    s1, s2 = _side(_cross(origin, a, b)), _side(_cross(origin, c, d))
    if s1 == 0 or s2 == 0:
        return 0.0
    if s1 < 0:
        a, b = b, a
    if s2 < 0:
        c, d = d, c
    points = [origin, a, b]
    for u, v in ((origin, c), (c, d), (d, origin)):
        points = _cut(points, u, v)
    area = abs(_signed_area(points)) if len(points) > 2 else 0.0
    return area if s1 == s2 else -area


def devkit_intersection_union(poly1, poly2):
    """(intersection, union) of two quadrilaterals (8 numbers each), the
    numerator and denominator of ``polyiou.iou_poly``."""
    p = [(float(poly1[2 * i]), float(poly1[2 * i + 1])) for i in range(4)]
    q = [(float(poly2[2 * i]), float(poly2[2 * i + 1])) for i in range(4)]
    if _signed_area(p) < 0:
        p.reverse()
    if _signed_area(q) < 0:
        q.reverse()
    inter = sum(
        _origin_triangles(p[i], p[(i + 1) % 4], q[j], q[(j + 1) % 4])
        for i in range(4) for j in range(4))
    return inter, abs(_signed_area(p)) + abs(_signed_area(q)) - inter


def devkit_iou(poly1, poly2):
    """IoU of two quadrilaterals as ``polyiou.iou_poly``."""
    inter, union = devkit_intersection_union(poly1, poly2)
    return inter / union if union else float('nan')


def reference_ap(recall, precision, use_07_metric):
    if use_07_metric:
        total = 0.0
        for k in range(11):
            t = np.arange(0., 1.1, 0.1)[k]
            best = 0.0
            for r, p in zip(recall, precision):
                if r >= t and p > best:
                    best = p
            total += best / 11.0
        return total
    mrec = [0.0] + list(recall) + [1.0]
    mpre = [0.0] + list(precision) + [0.0]
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]
               for i in range(len(mrec) - 1) if mrec[i + 1] != mrec[i])


def reference_voc_eval(detections, ground_truth, iou_thr, use_07_metric):
    """AP of one class.

    Args:
        detections: list of (image, score, polygon of 8).
        ground_truth: dict image -> list of (polygon of 8, difficult).
    """
    taken = {image: [False] * len(objs) for image, objs in ground_truth.items()}
    npos = sum(not diff for objs in ground_truth.values() for _, diff in objs)
    order = sorted(range(len(detections)), key=lambda k: -detections[k][1])
    tp, fp = [], []
    for k in order:
        image, _, det = detections[k]
        objs = ground_truth.get(image, [])
        best, best_j = -np.inf, -1
        dx, dy = det[0::2], det[1::2]
        for j, (gt, _) in enumerate(objs):
            gx, gy = gt[0::2], gt[1::2]
            iw = min(max(gx), max(dx)) - max(min(gx), min(dx)) + 1.0
            ih = min(max(gy), max(dy)) - max(min(gy), min(dy)) + 1.0
            if iw <= 0 or ih <= 0:
                continue
            iou = devkit_iou(gt, det)
            if iou > best:
                best, best_j = iou, j
        if best > iou_thr:
            if objs[best_j][1]:
                tp.append(0.0)
                fp.append(0.0)
            elif not taken[image][best_j]:
                taken[image][best_j] = True
                tp.append(1.0)
                fp.append(0.0)
            else:
                tp.append(0.0)
                fp.append(1.0)
        else:
            tp.append(0.0)
            fp.append(1.0)
    if npos == 0:
        return 0.0
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    recall = tp / npos
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return reference_ap(recall, precision, use_07_metric)

"""rotated_tod's CPU implementations of mmcv's CUDA-only ops, timed against
a plain reference, in one run:

    python bench/cpu_ops.py            # about a minute on 2 cores
    python bench/cpu_ops.py --scale 4  # larger inputs

Reference per op (each computes the same values):

- ``diff_iou_rotated_2d``: shapely, pair by pair; and mmcv's compiled CPU
  ``box_iou_rotated`` (aligned pairs, not differentiable).
- ``convex_iou`` / ``convex_giou``: shapely hulls and polygons, pair by pair.
- ``min_area_polygons``: ``cv2.minAreaRect``, set by set.
- ``points_in_polygons``: matplotlib ``Path.contains_points``, polygon by
  polygon (vectorised over the points).
- ``riroi_align_rotated``: mmcv's compiled CPU ``RoIAlignRotated`` (the same
  bilinear sampling, without the orientation shift).
- rotated soft-NMS: mmcv's compiled horizontal ``soft_nms`` (same boxes,
  all at angle 0) and its compiled hard ``nms_rotated``.

Ratios are reference time / ours (> 1: ours is faster). The memory line
runs ``convex_iou`` on 10k point sets x 100 polygons and reports the peak
resident memory above the start (the op works in chunks of
``PAIRS_PER_CHUNK`` pairs).
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gaussian_metrics import PeakMemory  # noqa: E402

from rotated_tod.core.post_processing.nms import soft_rotated_nms  # noqa: E402
from rotated_tod.ops import (  # noqa: E402
    convex_giou,
    convex_iou,
    diff_iou_rotated_2d,
    min_area_polygons,
    points_in_polygons,
    riroi_align_rotated,
)


def seconds(call, repeat: int = 3) -> float:
    """Best of ``repeat`` runs."""
    best = float('inf')
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def rboxes(rng, num: int, spread: float) -> np.ndarray:
    return np.stack([
        rng.uniform(0, spread, num), rng.uniform(0, spread, num),
        rng.uniform(4, 40, num), rng.uniform(4, 20, num),
        rng.uniform(-math.pi / 2, math.pi / 2, num)
    ], 1)


def polygons_of(boxes: np.ndarray) -> np.ndarray:
    x, y, w, h, a = boxes.T
    c, s = np.cos(a), np.sin(a)
    corners = []
    for u, v in ((0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5), (0.5, -0.5)):
        corners += [x + u * w * c - v * h * s, y + u * w * s + v * h * c]
    return np.stack(corners, 1)


def pointsets(rng, num: int, spread: float) -> np.ndarray:
    centres = rng.uniform(0, spread, (num, 1, 2))
    return (centres + rng.normal(0, 8, (num, 9, 2))).reshape(num, 18)


def report(name: str, ours: float, reference: float, what: str) -> None:
    print(f'{name:24s} ours {ours * 1e3:9.1f} ms   {what:34s} '
          f'{reference * 1e3:9.1f} ms   ratio {reference / ours:7.1f}x')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--scale', type=float, default=1.0)
    args = parser.parse_args()
    import cv2
    from matplotlib.path import Path
    from mmcv.ops import RoIAlignRotated, box_iou_rotated, nms_rotated, soft_nms
    from shapely import affinity
    from shapely.geometry import MultiPoint, Polygon, box

    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    n = int(2000 * args.scale)
    print(f'torch threads: {torch.get_num_threads()}')

    # memory first, so the high-water mark of earlier work does not hide it
    sets = torch.from_numpy(pointsets(rng, 10000, 1024)).float()
    gts = torch.from_numpy(polygons_of(rboxes(rng, 100, 1024))).float()
    with PeakMemory() as peak:
        start = time.perf_counter()
        convex_iou(sets, gts)
        spent = time.perf_counter() - start
    print(f'convex_iou 10000 x 100: {spent:.2f} s, peak memory above start '
          f'{peak.extra / 2**20:.0f} MiB')

    # diff_iou_rotated_2d
    b1 = rboxes(rng, n, 200)
    b2 = b1 + rng.normal(0, 4, b1.shape)
    b2[:, 2:4] = np.abs(b2[:, 2:4]) + 1
    t1, t2 = torch.from_numpy(b1).float(), torch.from_numpy(b2).float()

    def shapely_box(b):
        shape = box(-b[2] / 2, -b[3] / 2, b[2] / 2, b[3] / 2)
        shape = affinity.rotate(shape, b[4], origin=(0, 0), use_radians=True)
        return affinity.translate(shape, b[0], b[1])

    def shapely_ious():
        for a, b in zip(b1, b2):
            pa, pb = shapely_box(a), shapely_box(b)
            pa.intersection(pb).area / pa.union(pb).area

    ours = seconds(lambda: diff_iou_rotated_2d(t1, t2))
    report('diff_iou_rotated_2d', ours, seconds(shapely_ious, 1),
           f'shapely, {n} pairs')
    report('', ours, seconds(lambda: box_iou_rotated(t1, t2, aligned=True)),
           'mmcv box_iou_rotated (C++)')

    def forward_backward():
        x = t1.clone().requires_grad_()
        diff_iou_rotated_2d(x, t2).sum().backward()

    print(f'{"":24s} forward + backward {seconds(forward_backward) * 1e3:.1f}'
          ' ms')

    # convex_iou / convex_giou
    rows, cols = max(1, n // 10), 50
    pts = pointsets(rng, rows, 300)
    polys = polygons_of(rboxes(rng, cols, 300))
    tp, tq = torch.from_numpy(pts).float(), torch.from_numpy(polys).float()

    def shapely_convex_iou():
        hulls = [MultiPoint(p.reshape(9, 2)).convex_hull for p in pts]
        shapes = [Polygon(q.reshape(4, 2)) for q in polys]
        for h in hulls:
            for q in shapes:
                if h.intersects(q):
                    h.intersection(q).area / h.union(q).area

    report('convex_iou', seconds(lambda: convex_iou(tp, tq)),
           seconds(shapely_convex_iou, 1), f'shapely, {rows} x {cols}')
    pairs = torch.from_numpy(polygons_of(rboxes(rng, n, 300))).float()
    gp = torch.from_numpy(pointsets(rng, n, 300)).float()

    def shapely_giou():
        for p, q in zip(gp.numpy(), pairs.numpy()):
            h, g = MultiPoint(p.reshape(9, 2)).convex_hull, Polygon(
                q.reshape(4, 2))
            union = h.union(g).area
            enclose = MultiPoint(np.concatenate(
                [p.reshape(9, 2), q.reshape(4, 2)])).convex_hull.area
            h.intersection(g).area / union - (enclose - union) / enclose

    report('convex_giou (+ grad)', seconds(lambda: convex_giou(gp, pairs)),
           seconds(shapely_giou, 1), f'shapely (value only), {n} pairs')

    # min_area_polygons
    many = pointsets(rng, 5 * n, 300).astype(np.float32)
    tm = torch.from_numpy(many)

    def cv2_rects():
        for p in many:
            cv2.boxPoints(cv2.minAreaRect(p.reshape(9, 2)))

    report('min_area_polygons', seconds(lambda: min_area_polygons(tm)),
           seconds(cv2_rects, 1), f'cv2.minAreaRect, {5 * n} sets')

    # points_in_polygons
    points = rng.uniform(0, 300, (10 * n, 2)).astype(np.float32)
    tpts = torch.from_numpy(points)

    def path_contains():
        for q in polys:
            Path(q.reshape(4, 2)).contains_points(points)

    report('points_in_polygons',
           seconds(lambda: points_in_polygons(tpts, tq)),
           seconds(path_contains), f'matplotlib Path, {10 * n} x {cols}')

    # riroi_align_rotated
    num_rois = max(8, n // 4)
    feats = torch.randn(2, 64, 64, 64)
    rois = torch.from_numpy(np.concatenate(
        [rng.integers(0, 2, (num_rois, 1)), rboxes(rng, num_rois, 256)],
        1)).float()
    reference = RoIAlignRotated(7, 0.25, 2, clockwise=False)
    report('riroi_align_rotated',
           seconds(lambda: riroi_align_rotated(feats, rois, 7, 0.25, 2, 8)),
           seconds(lambda: reference(feats, rois)),
           f'mmcv RoIAlignRotated (C++), {num_rois}')

    # soft-NMS
    dets = rboxes(rng, n // 2, 300)
    boxes_r = torch.from_numpy(dets).float()
    boxes_r[:, 4] = 0
    boxes_h = torch.cat([boxes_r[:, :2] - boxes_r[:, 2:4] / 2,
                         boxes_r[:, :2] + boxes_r[:, 2:4] / 2], 1)
    scores = torch.rand(len(dets))
    ours = seconds(lambda: soft_rotated_nms(boxes_r, scores, 0.3))
    report('soft_rotated_nms', ours,
           seconds(lambda: soft_nms(boxes_h, scores, 0.3)),
           f'mmcv soft_nms (C++, horizontal), {len(dets)}')
    report('', ours, seconds(lambda: nms_rotated(boxes_r, scores, 0.3)),
           'mmcv nms_rotated (C++, hard)')


if __name__ == '__main__':
    main()

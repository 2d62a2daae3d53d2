"""Time the devkit-exact DOTA evaluator against mmrotate's ``eval_rbbox_map``.

    python bench/eval_speed.py               # DOTA-v1.0-val size: 458 images,
                                             # 15 classes, about 1M detections
    python bench/eval_speed.py --scale 0.1   # a quick run

Both evaluators score the same synthetic detections in this process, on one
core: mmrotate's ``eval_rbbox_map`` runs with its worker pool replaced by an
in-process one (its own code, minus the ~10-20 s a spawned worker spends
importing torch and mmcv; ``--with-pool`` also times the real ``nproc=1``
pool). The mAPs differ,
by design: mmrotate scores against rectangles fitted to the ground truth and
counts ``IoU >= thr``, the devkit (and ours) against the labelled
quadrilaterals with ``IoU > thr``. The ground truth here is made like DOTA's:
integer vertices (so almost no object is an exact rectangle) and a share of
visibly non-rectangular quadrilaterals.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rotated_tod.core.bbox.transforms import obb2poly, poly2obb_np  # noqa: E402
from rotated_tod.core.evaluation import eval_polygon_map  # noqa: E402
from rotated_tod.core.fileio import DOTAAnnotation  # noqa: E402

NUM_IMAGES = 458
NUM_CLASSES = 15
DETS_PER_IMAGE = 2200
# relative object frequency per class (vehicles and ships dominate DOTA)
CLASS_WEIGHTS = np.array([8, 1, 2, 1, 30, 20, 25, 3, 1, 5, 1, 1, 6, 2, 1.0])


def make_dataset(scale: float, seed: int = 0):
    """(det_results, annotations) of a DOTA-val-like set."""
    rng = np.random.default_rng(seed)
    num_images = max(1, int(round(NUM_IMAGES * scale)))
    weights = CLASS_WEIGHTS / CLASS_WEIGHTS.sum()
    results, annotations = [], []
    for _ in range(num_images):
        n = int(rng.lognormal(3.5, 1.0)) + 1
        labels = rng.choice(NUM_CLASSES, n, p=weights)
        side = np.exp(rng.normal(3.2, 0.8, n))
        boxes = np.column_stack([
            rng.uniform(0, 4000, (n, 2)), side,
            side * rng.uniform(0.3, 1.0, n), rng.uniform(-np.pi / 2, np.pi / 2, n)])
        polys = np.round(obb2poly(boxes))
        bent = rng.random(n) < 0.2
        polys[bent] += np.round(rng.normal(0, 0.08, (int(bent.sum()), 8)) *
                                np.repeat(side[bent], 8).reshape(-1, 8))
        difficult = rng.random(n) < 0.1
        annotations.append(DOTAAnnotation(polys, labels, difficult))
        per_class = []
        budget = DETS_PER_IMAGE // NUM_CLASSES
        for c in range(NUM_CLASSES):
            mine = boxes[labels == c]
            hits = np.repeat(mine, rng.integers(1, 4, len(mine)), 0)
            hits = hits + rng.normal(0, 1, hits.shape) * np.column_stack(
                [hits[:, 2:4] * 0.08, hits[:, 2:4] * 0.08, np.full(len(hits), 0.05)])
            alarms = max(budget - len(hits), 0)
            side_fp = np.exp(rng.normal(3.2, 0.8, alarms))
            false = np.column_stack([
                rng.uniform(0, 4000, (alarms, 2)), side_fp,
                side_fp * rng.uniform(0.3, 1.0, alarms),
                rng.uniform(-np.pi / 2, np.pi / 2, alarms)])
            found = np.concatenate([hits, false])
            found[:, 2:4] = np.maximum(found[:, 2:4], 1.0)
            scores = np.concatenate([rng.uniform(0.3, 1.0, len(hits)),
                                     rng.uniform(0.05, 0.8, alarms)])
            per_class.append(np.column_stack([found, scores]).astype(np.float32))
        results.append(per_class)
    return results, annotations


def mmrotate_annotations(annotations):
    """mmrotate's view of the ground truth: fitted le90 rectangles, difficult
    objects as ignored boxes."""
    out = []
    for ann in annotations:
        boxes = poly2obb_np(ann.polygons, 'le90').astype(np.float32)
        keep = ~ann.difficult
        out.append(dict(bboxes=boxes[keep], labels=ann.labels[keep],
                        bboxes_ignore=boxes[~keep], labels_ignore=ann.labels[~keep]))
    return out


class InProcessPool:
    """Stands in for ``multiprocessing.Pool``: ``starmap`` in this process."""

    def __init__(self, nproc: int = 1):
        self.nproc = nproc

    def starmap(self, func, iterable):
        return [func(*args) for args in iterable]

    def close(self) -> None:
        pass


class InProcessContext:

    Pool = InProcessPool


def time_mmrotate(results, annotations, in_process: bool) -> tuple:
    """(seconds, mAP) of mmrotate's ``eval_rbbox_map`` (VOC07, IoU 0.5)."""
    from mmrotate.core.evaluation import eval_map
    original = eval_map.get_context
    if in_process:
        eval_map.get_context = lambda method: InProcessContext
    try:
        start = time.perf_counter()
        mean_ap, _ = eval_map.eval_rbbox_map(
            results, annotations, iou_thr=0.5, use_07_metric=True,
            logger='silent', nproc=1)
        return time.perf_counter() - start, mean_ap
    finally:
        eval_map.get_context = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--scale', type=float, default=1.0,
                        help='fraction of the DOTA-val image count')
    parser.add_argument('--with-pool', action='store_true',
                        help="also time eval_rbbox_map with its spawned pool")
    args = parser.parse_args()

    start = time.perf_counter()
    results, annotations = make_dataset(args.scale)
    num_dets = sum(len(d) for img in results for d in img)
    num_gts = sum(len(a) for a in annotations)
    print(f'{len(results)} images, {NUM_CLASSES} classes, {num_gts} objects, '
          f'{num_dets} detections (made in {time.perf_counter() - start:.1f} s)')
    mm_anns = mmrotate_annotations(annotations)

    start = time.perf_counter()
    ours = eval_polygon_map(results, annotations, NUM_CLASSES)
    ours_s = time.perf_counter() - start
    theirs_s, theirs = time_mmrotate(results, mm_anns, in_process=True)

    print(f"rotated_tod eval_polygon_map (devkit-exact polygons): "
          f"{ours_s:7.2f} s  mAP {ours['mAP']:.4f}")
    print(f"mmrotate eval_rbbox_map, in process (fitted rects):   "
          f"{theirs_s:7.2f} s  mAP {theirs:.4f}")
    print(f'time ratio ours / mmrotate: {ours_s / theirs_s:.3f}')
    if args.with_pool:
        pooled_s, _ = time_mmrotate(results, mm_anns, in_process=False)
        print(f'mmrotate eval_rbbox_map with its nproc=1 spawned pool: '
              f'{pooled_s:7.2f} s (ratio ours / pooled {ours_s / pooled_s:.3f})')
    print('The mAPs differ by design: mmrotate matches against rectangles '
          'fitted to the ground truth (IoU >= 0.5), the DOTA devkit and ours '
          'against the labelled quadrilaterals (IoU > 0.5).')


if __name__ == '__main__':
    main()

"""Merging patch detections into whole images: ``merge_patch_results``
against mmrotate's ``DOTADataset.merge_det``, on the same patch results.

    python bench/merge_speed.py               # DOTA-v1.0-test size: 937
                                              # images split at 1024 / 200
    python bench/merge_speed.py --scale 0.05  # a quick run

The images have DOTA-like sizes (800 to 4000 px a side, a few up to
8000), cut like the devkit's splitter (1024 px windows every 824 px, the
last one flush with the border). Each patch holds noisy detections of the
objects it sees (so overlapping patches report the same object twice) and
false alarms, as per-class (K, 6) float32 ``xywha, score`` arrays. Both
merges run in this process on one core (``nproc=1``, one torch thread),
with rotated-IoU NMS at 0.1, timed in CPU seconds;
mmrotate's per-image step is its ``_merge_func`` as ``rotated_tod.compat``
installs it (the same steps, without the attempt to move every class to
CUDA). The merged detections are compared image by image and class by
class.
"""
import argparse
import contextlib
import os
import sys
import time

import numpy as np
import torch
from synthetic_detections import CLASS_FREQUENCY, detections, random_rboxes
from timing import timed

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rotated_tod.core.fileio import DOTA_V1_0_CLASSES, patch_name  # noqa: E402
from rotated_tod.core.post_processing.merge import merge_patch_results  # noqa: E402

CLASSES = DOTA_V1_0_CLASSES
NUM_IMAGES = 937
PATCH, GAP = 1024, 200
FALSE_ALARMS_PER_PATCH = 60


def windows(size: int) -> list:
    """Window starts along one side: every ``PATCH - GAP``, the last one
    flush with the border."""
    step = PATCH - GAP
    starts = list(range(0, max(size - PATCH, 0) + 1, step))
    if starts[-1] + PATCH < size:
        starts.append(size - PATCH)
    return starts


def make_patch_results(scale: float, seed: int = 0) -> tuple:
    """(patch ids, per patch per class (K, 6) float32 arrays)."""
    rng = np.random.default_rng(seed)
    num_images = max(1, int(round(NUM_IMAGES * scale)))
    patch_ids, results = [], []
    for i in range(num_images):
        side = 8000 if rng.random() < 0.03 else 4000
        width, height = rng.integers(800, side + 1, 2)
        n = int(rng.lognormal(4.0, 1.0)) + 1
        labels = rng.choice(len(CLASSES), n, p=CLASS_FREQUENCY)
        objects = random_rboxes(rng, n, (width, height))
        for y in windows(int(height)):
            for x in windows(int(width)):
                inside = ((objects[:, 0] >= x) & (objects[:, 0] < x + PATCH) &
                          (objects[:, 1] >= y) & (objects[:, 1] < y + PATCH))
                per_class = []
                alarms = rng.multinomial(FALSE_ALARMS_PER_PATCH,
                                         CLASS_FREQUENCY)
                for c in range(len(CLASSES)):
                    mine = objects[inside & (labels == c)] - (x, y, 0, 0, 0)
                    per_class.append(detections(
                        rng, mine, 2, 0.05, 0.03, alarms[c], (PATCH, PATCH),
                        0.6).astype(np.float32))
                patch_ids.append(patch_name(f'P{i:04d}', 1.0, x, y))
                results.append(per_class)
    return patch_ids, results


@contextlib.contextmanager
def silent_stdout():
    """Send file descriptor 1 to /dev/null: mmcv's progress bar writes to the
    ``sys.stdout`` it saw at import, which ``redirect_stdout`` cannot reach."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, 'w') as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def mmrotate_merge(patch_ids: list, results: list) -> dict:
    """``DOTADataset.merge_det`` (nproc=1) on a dataset that only holds the
    patch ids: ``{image: per class (K, 6)}``."""
    from mmrotate.datasets import DOTADataset
    dataset = DOTADataset.__new__(DOTADataset)
    dataset.CLASSES = CLASSES
    dataset.img_ids = patch_ids
    dataset.data_infos = [dict(id=p) for p in patch_ids]
    with silent_stdout():
        ids, dets = dataset.merge_det(results, nproc=1)
    return dict(zip(ids, dets))


def canonical(dets: np.ndarray) -> np.ndarray:
    """Rows sorted by score, then position (the order of tied scores is not
    part of the result)."""
    dets = np.asarray(dets, np.float64).reshape(-1, 6)
    return dets[np.lexsort((dets[:, 1], dets[:, 0], -dets[:, 5]))]


def compare(ours: dict, theirs: dict) -> tuple:
    """(number of (image, class) results, those that differ, largest
    coordinate difference among the equal-sized ones)."""
    assert sorted(ours) == sorted(theirs), 'the merges cover other images'
    total, differ, largest = 0, 0, 0.0
    for image, per_class in theirs.items():
        for a, b in zip(ours[image], per_class):
            total += 1
            a, b = canonical(a), canonical(b)
            if a.shape != b.shape:
                differ += 1
                continue
            gap = float(np.abs(a - b).max()) if len(a) else 0.0
            largest = max(largest, gap)
            differ += gap > 1e-3
    return total, differ, largest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--scale', type=float, default=1.0,
                        help='fraction of the DOTA-test image count')
    args = parser.parse_args()
    torch.set_num_threads(1)  # both merges on one core

    start = time.perf_counter()
    patch_ids, results = make_patch_results(args.scale)
    num_dets = sum(len(d) for r in results for d in r)
    print(f'{len({p.split("__")[0] for p in patch_ids})} images, '
          f'{len(patch_ids)} patches, {num_dets} patch detections (made in '
          f'{time.perf_counter() - start:.0f} s)')

    ours, ours_cpu, ours_wall = timed(
        merge_patch_results, patch_ids, results, len(CLASSES), iou_thr=0.1,
        nproc=1, progress=False)
    theirs, theirs_cpu, theirs_wall = timed(mmrotate_merge, patch_ids, results)

    total, differ, largest = compare(ours, theirs)
    kept = sum(len(d) for per_class in ours.values() for d in per_class)
    print(f'rotated_tod merge_patch_results: {ours_cpu:7.2f} s CPU '
          f'({ours_wall:7.2f} s wall)  {kept} kept')
    print(f'mmrotate DOTADataset.merge_det:  {theirs_cpu:7.2f} s CPU '
          f'({theirs_wall:7.2f} s wall)')
    print(f'(image, class) results that differ: {differ} of {total} '
          f'(largest coordinate difference otherwise {largest:.1e})')
    print(f'speed-up: {theirs_cpu / ours_cpu:.1f}x CPU '
          f'({theirs_wall / ours_wall:.1f}x wall)')


if __name__ == '__main__':
    main()

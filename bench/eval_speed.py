"""Files to report: ``eval_dota_task1`` against the DOTA devkit's
``dota_evaluation_task1``, on the same Task1 and label files.

    python bench/eval_speed.py               # DOTA-v1.0-val size: 458 images,
                                             # 15 classes, ~1.0M detections,
                                             # ~24k objects
    python bench/eval_speed.py --scale 0.05  # a quick run

The files are made like a real submission: label files with integer
vertices (a share of visibly non-rectangular quadrilaterals, 10% difficult),
Task1 files written by ``write_dota_submission`` (scores with 6 decimals,
coordinates with 2). Both evaluators then go from files to per-class AP,
timed in CPU seconds (this process and the workers it waited for) and wall
seconds: ``eval_dota_task1`` once in this process (``workers=1``, compared
with the devkit in CPU seconds, one core against one core) and once as
users run it (``workers=None``: one process per core, at most 4, reading
and matching class files; compared in wall seconds, since the devkit cannot
use a second core).

The devkit side is its algorithm, operation for operation: per class it
re-reads every label file line by line, reads the class's Task1 file with
``readlines``/``split``/``float``, sorts by ``np.argsort(-confidence)`` and
walks the detections one by one with numpy (bounding-box prefilter, then
polygon IoU of the remaining objects, greedy matching). Its polygon IoU is
C++ (``polyiou``), which is not installable here: the IoUs of every
detection's remaining objects are computed beforehand in one vectorised pass
(``polygon_iou_aligned``), left out of the devkit's time, and looked up in
the loop. The devkit time printed is therefore a lower bound of the real
one, and the ratio too.

The APs agree up to the order of tied scores: the devkit sorts with
``np.argsort`` (not stable), ``eval_dota_task1`` with a stable sort; with a
stable sort in the devkit loop the APs are identical.
"""
import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict

import numpy as np
from synthetic_detections import CLASS_FREQUENCY, detections, random_rboxes
from timing import timed

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rotated_tod.core.bbox.polygon import polygon_iou_aligned  # noqa: E402
from rotated_tod.core.bbox.transforms import rbox_to_polygon  # noqa: E402
from rotated_tod.core.evaluation import eval_dota_task1, write_dota_submission  # noqa: E402
from rotated_tod.core.fileio import DOTA_V1_0_CLASSES, write_dota_labels  # noqa: E402

CLASSES = DOTA_V1_0_CLASSES
NUM_IMAGES = 458
DETS_PER_IMAGE = 2200


def make_files(root: str, scale: float, seed: int = 0) -> tuple:
    """Write ``root/labelTxt/*.txt`` and ``root/Task1/Task1_<class>.txt`` of
    a DOTA-val-like set; returns (number of objects, number of detections)."""
    rng = np.random.default_rng(seed)
    num_images = max(1, int(round(NUM_IMAGES * scale)))
    results, num_objects, num_dets = {}, 0, 0
    budget = DETS_PER_IMAGE // len(CLASSES)
    for i in range(num_images):
        image = f'P{i:04d}'
        n = int(rng.lognormal(3.5, 1.0)) + 1
        labels = rng.choice(len(CLASSES), n, p=CLASS_FREQUENCY)
        boxes = random_rboxes(rng, n, (4000, 4000))
        side = boxes[:, 2]
        polys = np.round(rbox_to_polygon(boxes))
        bent = rng.random(n) < 0.2
        polys[bent] += np.round(rng.normal(0, 0.08, (int(bent.sum()), 8)) *
                                np.repeat(side[bent], 8).reshape(-1, 8))
        write_dota_labels(os.path.join(root, 'labelTxt', f'{image}.txt'), polys,
                          [CLASSES[c] for c in labels], rng.random(n) < 0.1)
        num_objects += n
        per_class = []
        for c in range(len(CLASSES)):
            mine = boxes[labels == c]
            # about 2 hits per object, false alarms up to the budget
            alarms = max(budget - 2 * len(mine), 0)
            per_class.append(detections(rng, mine, 3, 0.08, 0.05, alarms,
                                        (4000, 4000), 0.8))
            num_dets += len(per_class[-1])
        results[image] = per_class
    write_dota_submission(results, CLASSES, root, task2=False, make_zip=False)
    return num_objects, num_dets


def devkit_parse_gt(path: str) -> list:
    """The devkit's label reader: one dict per object line."""
    objects = []
    with open(path) as f:
        for line in f:
            fields = line.strip().split(' ')
            if len(fields) < 9:
                continue
            objects.append(dict(
                name=fields[8],
                difficult=int(fields[9]) if len(fields) == 10 else 0,
                bbox=[float(fields[k]) for k in range(8)]))
    return objects


def devkit_voc_ap(rec: np.ndarray, prec: np.ndarray) -> float:
    """VOC07 11-point AP, as the devkit's ``voc_ap``."""
    ap = 0.0
    for t in np.arange(0., 1.1, 0.1):
        p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
        ap = ap + p / 11.
    return float(ap)


def prefiltered_ious(dets: np.ndarray, image_ids: list,
                     class_recs: dict) -> dict:
    """``{d: IoUs of detection d with the objects its image's bounding-box
    prefilter keeps, in object order}``, the values the devkit's loop asks
    ``polyiou`` for, with the loop's prefilter arithmetic vectorised."""
    by_image = defaultdict(list)
    for d, name in enumerate(image_ids):
        by_image[name].append(d)
    out = {}
    for name, members in by_image.items():
        gt = class_recs[name]['bbox'].astype(float)
        if gt.size == 0:
            continue
        members = np.array(members)
        bb = dets[members]
        gx0, gy0 = np.min(gt[:, 0::2], axis=1), np.min(gt[:, 1::2], axis=1)
        gx1, gy1 = np.max(gt[:, 0::2], axis=1), np.max(gt[:, 1::2], axis=1)
        bx0, by0 = np.min(bb[:, 0::2], 1)[:, None], np.min(bb[:, 1::2], 1)[:, None]
        bx1, by1 = np.max(bb[:, 0::2], 1)[:, None], np.max(bb[:, 1::2], 1)[:, None]
        iw = np.maximum(np.minimum(gx1, bx1) - np.maximum(gx0, bx0) + 1., 0.)
        ih = np.maximum(np.minimum(gy1, by1) - np.maximum(gy0, by0) + 1., 0.)
        inters = iw * ih
        uni = ((bx1 - bx0 + 1.) * (by1 - by0 + 1.) +
               (gx1 - gx0 + 1.) * (gy1 - gy0 + 1.) - inters)
        det_k, gt_k = np.nonzero(inters / uni > 0)
        ious = polygon_iou_aligned(gt[gt_k], bb[det_k])
        bounds = np.searchsorted(det_k, np.arange(len(members) + 1))
        for k, d in enumerate(members.tolist()):
            if bounds[k + 1] > bounds[k]:
                out[d] = ious[bounds[k]:bounds[k + 1]]
    return out


def devkit_voc_eval(det_path: str, label_dir: str, image_names: list,
                    class_name: str, ovthresh: float = 0.5) -> tuple:
    """(AP, CPU and wall seconds spent in polygon IoU) of one class, the
    devkit's way."""
    recs = {name: devkit_parse_gt(os.path.join(label_dir, name + '.txt'))
            for name in image_names}
    class_recs, npos = {}, 0
    for name in image_names:
        objs = [obj for obj in recs[name] if obj['name'] == class_name]
        bbox = np.array([x['bbox'] for x in objs])
        difficult = np.array([x['difficult'] for x in objs]).astype(bool)
        npos = npos + sum(~difficult)
        class_recs[name] = dict(bbox=bbox, difficult=difficult,
                                det=[False] * len(objs))
    with open(det_path) as f:
        lines = f.readlines()
    fields = [x.strip().split(' ') for x in lines]
    image_ids = [x[0] for x in fields]
    confidence = np.array([float(x[1]) for x in fields])
    dets = np.array([[float(z) for z in x[2:]] for x in fields])
    sorted_ind = np.argsort(-confidence)
    dets = dets[sorted_ind, :]
    image_ids = [image_ids[x] for x in sorted_ind]
    nd = len(image_ids)
    tp, fp = np.zeros(nd), np.zeros(nd)
    polyiou, iou_cpu, iou_wall = timed(prefiltered_ious, dets, image_ids,
                                       class_recs)
    for d in range(nd):
        rec = class_recs[image_ids[d]]
        bb = dets[d, :].astype(float)
        ovmax = -np.inf
        gt = rec['bbox'].astype(float)
        if gt.size > 0:
            gt_xmin, gt_ymin = np.min(gt[:, 0::2], axis=1), np.min(gt[:, 1::2], axis=1)
            gt_xmax, gt_ymax = np.max(gt[:, 0::2], axis=1), np.max(gt[:, 1::2], axis=1)
            bb_xmin, bb_ymin = np.min(bb[0::2]), np.min(bb[1::2])
            bb_xmax, bb_ymax = np.max(bb[0::2]), np.max(bb[1::2])
            ixmin, iymin = np.maximum(gt_xmin, bb_xmin), np.maximum(gt_ymin, bb_ymin)
            ixmax, iymax = np.minimum(gt_xmax, bb_xmax), np.minimum(gt_ymax, bb_ymax)
            iw = np.maximum(ixmax - ixmin + 1., 0.)
            ih = np.maximum(iymax - iymin + 1., 0.)
            inters = iw * ih
            uni = ((bb_xmax - bb_xmin + 1.) * (bb_ymax - bb_ymin + 1.) +
                   (gt_xmax - gt_xmin + 1.) * (gt_ymax - gt_ymin + 1.) - inters)
            overlaps = inters / uni
            keep_index = np.where(overlaps > 0)[0]
            keep = gt[overlaps > 0, :]
            if len(keep) > 0:
                ious = polyiou[d]
                assert len(ious) == len(keep)
                ovmax = np.max(ious)
                jmax = keep_index[np.argmax(ious)]
        if ovmax > ovthresh:
            if not rec['difficult'][jmax]:
                if not rec['det'][jmax]:
                    tp[d] = 1.
                    rec['det'][jmax] = 1
                else:
                    fp[d] = 1.
        else:
            fp[d] = 1.
    fp, tp = np.cumsum(fp), np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return devkit_voc_ap(rec, prec), iou_cpu, iou_wall


def devkit_evaluation(det_dir: str, label_dir: str) -> tuple:
    """(AP per class, CPU and wall seconds of polygon IoU) of the devkit's
    ``dota_evaluation_task1`` main loop over the classes."""
    names = sorted(f[:-4] for f in os.listdir(label_dir))
    aps, iou_cpu, iou_wall = {}, 0.0, 0.0
    for name in CLASSES:
        with np.errstate(divide='ignore', invalid='ignore'):  # npos = 0
            aps[name], cpu, wall = devkit_voc_eval(
                os.path.join(det_dir, f'Task1_{name}.txt'), label_dir, names,
                name)
        iou_cpu, iou_wall = iou_cpu + cpu, iou_wall + wall
    return aps, iou_cpu, iou_wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--scale', type=float, default=1.0,
                        help='fraction of the DOTA-val image count')
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as root:
        start = time.perf_counter()
        num_objects, num_dets = make_files(root, args.scale)
        label_dir = os.path.join(root, 'labelTxt')
        det_dir = os.path.join(root, 'Task1')
        size = sum(os.path.getsize(os.path.join(det_dir, f))
                   for f in os.listdir(det_dir))
        print(f'{len(os.listdir(label_dir))} images, {len(CLASSES)} classes, '
              f'{num_objects} objects, {num_dets} detections '
              f'({size / 2**20:.0f} MiB of Task1 files, made in '
              f'{time.perf_counter() - start:.0f} s)')

        report, ours_cpu, ours_wall = timed(eval_dota_task1, det_dir,
                                            label_dir, CLASSES, workers=1)
        ours = {r['class']: r for r in report['per_class']}
        forked, cores_cpu, cores_wall = timed(eval_dota_task1, det_dir,
                                              label_dir, CLASSES)
        assert repr(forked['per_class']) == repr(report['per_class'])
        (devkit, iou_cpu, iou_wall), devkit_cpu, devkit_wall = timed(
            devkit_evaluation, det_dir, label_dir)
        devkit_cpu, devkit_wall = devkit_cpu - iou_cpu, devkit_wall - iou_wall

    scored = [c for c in CLASSES if ours[c]['num_gts'] > 0]
    diff = max(abs(ours[c]['ap'] - devkit[c]) for c in scored)
    ours_map = np.mean([ours[c]['ap'] for c in scored])
    cores = os.cpu_count()
    print(f'rotated_tod eval_dota_task1: {ours_cpu:7.2f} s CPU '
          f'({ours_wall:6.2f} s wall)  mAP {ours_map:.6f}  (1 process)')
    print(f'rotated_tod eval_dota_task1: {cores_cpu:7.2f} s CPU '
          f'({cores_wall:6.2f} s wall)  same report  '
          f'(default workers, {cores} cores)')
    print(f'DOTA devkit algorithm:       {devkit_cpu:7.2f} s CPU '
          f'({devkit_wall:6.2f} s wall)  '
          f'mAP {np.mean([devkit[c] for c in scored]):.6f} '
          f'(+{iou_cpu:.2f} s CPU of polygon IoU left out)')
    print(f'max per-class |AP difference|: {diff:.2e} over {len(scored)} classes')
    print(f'speed-up, files to report (lower bounds: the devkit\'s C++ IoU '
          f'is counted as free): one core {devkit_cpu / ours_cpu:.1f}x CPU '
          f'({devkit_wall / ours_wall:.1f}x wall); as run, {cores} cores '
          f'{devkit_wall / cores_wall:.1f}x wall')


if __name__ == '__main__':
    main()

"""DOTA Task1 (oriented) evaluation, identical to the official devkit.

The rules of ``dota_evaluation_task1.voc_eval`` (DOTA devkit), per class:

- detections are polygons, sorted by descending score (ties keep their
  input order: a stable sort; the devkit's ``np.argsort`` leaves tied
  scores in an order numpy does not specify, so no tie order is "the
  server's");
- ground truth is the labelled quadrilateral itself (not a fitted
  rectangle), difficult objects included for matching;
- each detection looks at the ground truth of its image with the highest
  polygon IoU (:mod:`rotated_tod.core.bbox.polygon`; first in label-file
  order on ties). It is a true positive when ``IoU > iou_thr`` (strictly)
  and that object is not difficult and not yet matched; a duplicate is a
  false positive; a detection whose best object is difficult is neither;
  anything else is a false positive;
- ``recall = TP / npos`` (npos: non-difficult objects), ``precision =
  TP / max(TP + FP, eps)``; AP is VOC07 11-point (default; the points are
  ``np.arange(0., 1.1, 0.1)`` as in the devkit, so e.g. a recall of exactly
  3/10 does not reach the point 0.30000000000000004) or VOC12 area;
- mAP is the mean over *all* classes of the class list.

Classes without non-difficult ground truth: the devkit divides by npos = 0;
its 11-point AP is then 0 (and its area AP NaN). Here such a class always
has AP 0, its recall is NaN, and it still counts in the mAP, as on the DOTA
server (which has ground truth for every class, so this only matters for
subsets). The report says how many classes lacked ground truth.

Beyond the devkit: several IoU thresholds at once (``mAP_50`` ... and their
mean, e.g. ``mAP_50_95``) and recall by object size at the first threshold,
over non-difficult objects of all classes, size = ``sqrt(polygon area)``:
tiny < 16 px <= small < 32 <= medium < 96 <= large.

AP by object size (``size_ranges=True``), following AI-TOD's ranges on
``sqrt(polygon area)``: very tiny [2, 8), tiny [8, 16), small [16, 32),
medium [32, 64) px (AI-TOD: Wang et al., "Tiny Object Detection in Aerial
Images", ICPR 2020), with COCO's area-range rules (``cocoeval``): objects
outside the range are ignored like difficult ones (a detection whose best
object is one of them is neither TP nor FP), a detection counted as FP is
ignored instead when its own size is outside the range, and the recall
counts the non-difficult objects inside the range. The matching itself is
the devkit's (best-IoU object), not COCO's preference for non-ignored
objects. ``AP_vt``, ``AP_t``, ``AP_s``, ``AP_m`` average over the classes
that have objects in the range (COCO; NaN when none has).

Matching is vectorised: a detection's best object does not depend on which
objects are already taken, so it is found once for all thresholds (bounding
box prefilter, then exact polygon IoU on overlapping pairs only), and the
"first detection of each object" rule is a ``np.unique`` over the sorted
detections.
"""
import math
import multiprocessing
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..bbox.polygon import bounds_overlap, polygon_bounds, polygon_iou_aligned
from ..fileio import (
    DOTAAnnotation,
    InputError,
    check_on_invalid,
    handle_invalid,
    list_label_files,
    parse_task1,
    polygon_area,
    scan_dota_labels,
    warn_skipped,
)
from .submission import detections_to_polygons, task1_files

# (name, min side, max side) on sqrt(polygon area), in pixels.
SIZE_RANGES = (('tiny', 0.0, 16.0), ('small', 16.0, 32.0),
               ('medium', 32.0, 96.0), ('large', 96.0, math.inf))
# AI-TOD's size ranges (key suffix, min side, max side) for AP by size.
AITOD_SIZE_RANGES = (('vt', 2.0, 8.0), ('t', 8.0, 16.0), ('s', 16.0, 32.0),
                     ('m', 32.0, 64.0))
COCO_IOU_THRS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))
# Detection-object pairs tested at once; bounds temporary memory.
PAIR_CHUNK = 2_000_000


def voc_ap(recall: np.ndarray, precision: np.ndarray,
           use_07_metric: bool = True) -> float:
    """Average precision of a PR curve, as the devkit's ``voc_ap``.

    VOC07: ``sum over t in np.arange(0., 1.1, 0.1) of max(precision[recall >= t]) / 11``
    (0 for a point no recall reaches). VOC12: area under the precision
    envelope ``p(r) = max(precision[recall >= r])`` with sentinels
    ``(0, 0)`` and ``(1, 0)``.

    Args:
        recall, precision: (D,) cumulative values over sorted detections.
    """
    recall = np.asarray(recall, np.float64)
    precision = np.asarray(precision, np.float64)
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0., 1.1, 0.1):
            reached = recall >= t
            ap += (precision[reached].max() if reached.any() else 0.0) / 11.
        return float(ap)
    mrec = np.concatenate(([0.], recall, [1.]))
    mpre = np.concatenate(([0.], precision, [0.]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    steps = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


@dataclass
class ClassMatches:
    """One class's detections, sorted by score, with their best object.

    Attributes:
        best_iou: (D,) highest IoU with an object of the same image,
            ``-inf`` when no object's bounds overlap.
        best_gt: (D,) index of that object in this class's objects, -1 if none.
        gt_difficult: (G,) bool.
        gt_size: (G,) ``sqrt(polygon area)``.
        det_size: (D,) ``sqrt(polygon area)`` of the sorted detections.
    """
    best_iou: np.ndarray
    best_gt: np.ndarray
    gt_difficult: np.ndarray
    gt_size: np.ndarray
    det_size: np.ndarray

    @property
    def num_gts(self) -> int:
        return int((~self.gt_difficult).sum())

    @property
    def num_dets(self) -> int:
        return len(self.best_iou)

    def gt_ignored(self, size_range: Optional[Tuple[float, float]] = None
                   ) -> np.ndarray:
        """(G,) bool: difficult, or outside ``[min, max)`` side when given."""
        if size_range is None:
            return self.gt_difficult
        return self.gt_difficult | ~_inside(self.gt_size, size_range)

    def true_positives(self, iou_thr: float,
                       size_range: Optional[Tuple[float, float]] = None
                       ) -> tuple:
        """(tp, fp) bool (D,) under the devkit's rules at ``iou_thr``,
        restricted to a size range with COCO's rules when given."""
        hit = self.best_iou > iou_thr
        ignored = np.zeros(self.num_dets, bool)
        ignored[hit] = self.gt_ignored(size_range)[self.best_gt[hit]]
        counted = np.nonzero(hit & ~ignored)[0]
        _, first = np.unique(self.best_gt[counted], return_index=True)
        tp = np.zeros(self.num_dets, bool)
        tp[counted[first]] = True
        fp = ~tp & ~ignored
        if size_range is not None:
            fp &= _inside(self.det_size, size_range)
        return tp, fp

    def average_precision(self, iou_thr: float, use_07_metric: bool,
                          size_range: Optional[Tuple[float, float]] = None
                          ) -> tuple:
        """(ap, recall, matched objects (G,) bool) at ``iou_thr``."""
        tp, fp = self.true_positives(iou_thr, size_range)
        matched = np.zeros(len(self.gt_difficult), bool)
        matched[self.best_gt[tp]] = True
        npos = int((~self.gt_ignored(size_range)).sum())
        if npos == 0:
            return 0.0, math.nan, matched
        tp_sum = np.cumsum(tp, dtype=np.float64)
        fp_sum = np.cumsum(fp, dtype=np.float64)
        recall = tp_sum / float(npos)
        precision = tp_sum / np.maximum(tp_sum + fp_sum,
                                        np.finfo(np.float64).eps)
        final = float(recall[-1]) if len(recall) else 0.0
        return voc_ap(recall, precision, use_07_metric), final, matched


def match_class(det_polys: np.ndarray, det_scores: np.ndarray,
                det_images: np.ndarray, gt_polys: np.ndarray,
                gt_images: np.ndarray, gt_difficult: np.ndarray,
                num_images: int) -> ClassMatches:
    """Sort one class's detections and find each one's best object.

    Args:
        det_polys: (D, 8) detection polygons.
        det_scores: (D,) scores.
        det_images: (D,) image index of each detection.
        gt_polys: (G, 8) objects, grouped by image in increasing image
            index, label-file order within an image.
        gt_images: (G,) non-decreasing image index of each object.
        gt_difficult: (G,) bool.
        num_images: number of images.
    """
    order = _descending_order(det_scores)
    # np.take gathers rows several times faster than fancy indexing
    det_polys = np.take(np.asarray(det_polys, np.float64).reshape(-1, 8),
                        order, 0)
    det_images = np.asarray(det_images, np.int64)[order]
    gt_polys = np.asarray(gt_polys, np.float64).reshape(-1, 8)
    gt_images = np.asarray(gt_images, np.int64)
    if np.any(np.diff(gt_images) < 0):
        raise ValueError('objects must be grouped by increasing image index')
    gt_count = np.bincount(gt_images, minlength=num_images)
    gt_start = np.concatenate(([0], np.cumsum(gt_count)[:-1]))

    num = len(det_polys)
    best_iou = np.full(num, -np.inf)
    best_gt = np.full(num, -1, np.int64)
    pairs = gt_count[det_images]
    pair_end = np.cumsum(pairs)
    det_bounds, gt_bounds = polygon_bounds(det_polys), polygon_bounds(gt_polys)
    det_x0, det_x1 = det_bounds[:, 0].copy(), det_bounds[:, 2].copy()
    gt_x0, gt_x1 = gt_bounds[:, 0].copy(), gt_bounds[:, 2].copy()
    start = 0
    while start < num:
        base = pair_end[start - 1] if start else 0
        stop = max(int(np.searchsorted(pair_end, base + PAIR_CHUNK, 'right')),
                   start + 1)
        counts = pairs[start:stop]
        ends = pair_end[start:stop] - base
        # pair p of detection d is object gt_start[image of d] + (p - first
        # pair of d)
        gt_idx = np.arange(ends[-1]) + np.repeat(
            gt_start[det_images[start:stop]] - (ends - counts), counts)
        # the x extents first, on contiguous 1-d arrays: most pairs fail
        # there; the survivors then take the full test (the x test is
        # implied by it, so the result is bounds_overlap's)
        near = np.flatnonzero(
            (np.repeat(det_x1[start:stop], counts) > gt_x0[gt_idx]) &
            (gt_x1[gt_idx] > np.repeat(det_x0[start:stop], counts)))
        det_idx = start + np.searchsorted(ends, near, 'right')
        gt_idx = gt_idx[near]
        near = bounds_overlap(np.take(det_bounds, det_idx, 0),
                              np.take(gt_bounds, gt_idx, 0))
        det_idx, gt_idx = det_idx[near], gt_idx[near]
        iou = polygon_iou_aligned(np.take(det_polys, det_idx, 0),
                                  np.take(gt_polys, gt_idx, 0))
        np.maximum.at(best_iou, det_idx, iou)
        # pairs run by detection, then object order: the first pair that
        # reaches the maximum is the devkit's argmax.
        at_max = iou == best_iou[det_idx]
        dets, first = np.unique(det_idx[at_max], return_index=True)
        best_gt[dets] = gt_idx[at_max][first]
        start = stop
    return ClassMatches(best_iou, best_gt,
                        np.asarray(gt_difficult, bool).reshape(-1),
                        np.sqrt(polygon_area(gt_polys)),
                        np.sqrt(polygon_area(det_polys)))


def _descending_order(scores: np.ndarray) -> np.ndarray:
    """``np.argsort(-scores, kind='stable')``, about twice as fast: numpy's
    unstable sorts are vectorised, and sorting the distinct keys ``rank of
    the score * D + index`` puts tied scores in index order, as a stable
    sort does."""
    neg = -np.asarray(scores, np.float64).reshape(-1)
    if len(neg) < 2 or np.isnan(neg).any():
        return np.argsort(neg, kind='stable')
    order = np.argsort(neg)
    ranked = neg[order]
    rank = np.zeros(len(neg), np.int64)
    np.cumsum(ranked[1:] != ranked[:-1], out=rank[1:])
    keys = rank * len(neg) + order
    keys.sort()
    return keys % len(neg)


def _inside(size: np.ndarray, size_range: Tuple[float, float]) -> np.ndarray:
    return (size >= size_range[0]) & (size < size_range[1])


def _thr_key(iou_thr: float) -> str:
    return f'{int(round(iou_thr * 100)):02d}'


def _as_thresholds(iou_thr: Union[float, Sequence[float]]) -> List[float]:
    thrs = [float(iou_thr)] if np.isscalar(iou_thr) else [
        float(t) for t in iou_thr]
    if not thrs or not all(0.0 <= t < 1.0 for t in thrs):
        raise ValueError(f'IoU thresholds must be in [0, 1), got {iou_thr!r}')
    return thrs


def summarize(matches: Sequence[ClassMatches],
              class_names: Sequence[str],
              iou_thr: Union[float, Sequence[float]] = 0.5,
              use_07_metric: bool = True,
              size_ranges: bool = False) -> dict:
    """The report of :func:`eval_polygon_map` from per-class matches."""
    thrs = _as_thresholds(iou_thr)
    aps = np.zeros((len(thrs), len(matches)))
    per_class = []
    size_hits = {name: [0, 0] for name, _, _ in SIZE_RANGES}
    for c, (name, match) in enumerate(zip(class_names, matches)):
        recall = math.nan
        for t, thr in enumerate(thrs):
            ap, rec, matched = match.average_precision(thr, use_07_metric)
            aps[t, c] = ap
            if t == 0:
                recall = rec
                counted = ~match.gt_difficult
                for size_name, low, high in SIZE_RANGES:
                    inside = counted & (match.gt_size >= low) & (
                        match.gt_size < high)
                    size_hits[size_name][0] += int(matched[inside].sum())
                    size_hits[size_name][1] += int(inside.sum())
        per_class.append(
            dict(**{'class': name}, ap=float(aps[0, c]),
                 num_gts=match.num_gts, num_dets=match.num_dets,
                 recall=float(recall),
                 ap_per_iou=[float(a) for a in aps[:, c]]))
    maps = aps.mean(1) if len(matches) else np.zeros(len(thrs))
    report = dict(
        mAP=float(maps[0]),
        per_class=per_class,
        iou_thrs=thrs,
        use_07_metric=bool(use_07_metric),
        num_classes_without_gts=sum(m.num_gts == 0 for m in matches))
    if len(thrs) > 1:
        for thr, value in zip(thrs, maps):
            report[f'mAP_{_thr_key(thr)}'] = float(value)
        report[f'mAP_{_thr_key(min(thrs))}_{_thr_key(max(thrs))}'] = float(
            maps.mean())
    for size_name, (hits, total) in size_hits.items():
        report[f'recall_{size_name}'] = hits / total if total else math.nan
        report[f'num_gts_{size_name}'] = total
    if size_ranges:
        report.update(_size_range_aps(matches, thrs, use_07_metric))
    return report


def _size_range_aps(matches: Sequence[ClassMatches], thrs: List[float],
                    use_07_metric: bool) -> dict:
    """``AP_<range>`` at the first threshold (and ``AP_<range>_<min>_<max>``,
    the mean over thresholds, with several), ``num_gts_<range>``."""
    out = {}
    for key, low, high in AITOD_SIZE_RANGES:
        present = [m for m in matches
                   if (~m.gt_ignored((low, high))).any()]
        aps = np.array([[m.average_precision(t, use_07_metric,
                                             (low, high))[0]
                         for m in present] for t in thrs])
        means = aps.mean(1) if present else np.full(len(thrs), math.nan)
        out[f'AP_{key}'] = float(means[0])
        if len(thrs) > 1:
            out[f'AP_{key}_{_thr_key(min(thrs))}_{_thr_key(max(thrs))}'] = (
                float(means.mean()))
        out[f'num_gts_{key}'] = int(
            sum((~m.gt_ignored((low, high))).sum() for m in matches))
    return out


def format_report(report: dict) -> str:
    """A plain-text table of a :func:`summarize` report."""
    metric = 'VOC07 11-point' if report['use_07_metric'] else 'VOC12 area'
    thrs = report['iou_thrs']
    head = ('class', 'gts', 'dets', 'recall', f'AP@{thrs[0]:g}')
    rows = [head] + [(r['class'], str(r['num_gts']), str(r['num_dets']),
                      f"{r['recall']:.4f}", f"{r['ap']:.4f}")
                     for r in report['per_class']]
    rows.append(('mAP', '', '', '', f"{report['mAP']:.4f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    rule = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'

    def line(row):
        return '| ' + ' | '.join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths))) + ' |'

    out = [f'DOTA Task1 evaluation ({metric}, TP when IoU > threshold)', rule,
           line(rows[0]), rule] + [line(r) for r in rows[1:-1]] + [
               rule, line(rows[-1]), rule]
    for key, value in report.items():
        if key.startswith('mAP_'):
            out.append(f'{key}: {value:.4f}')
    sizes = ', '.join(
        f"{name} {report[f'recall_{name}']:.4f} "
        f"({report[f'num_gts_{name}']})" for name, _, _ in SIZE_RANGES)
    out.append(f'recall by size at IoU > {thrs[0]:g} (objects): {sizes}')
    if 'AP_vt' in report:
        aps = ', '.join(
            f"{key} [{low:g}, {high:g}) {report[f'AP_{key}']:.4f} "
            f"({report[f'num_gts_{key}']})"
            for key, low, high in AITOD_SIZE_RANGES)
        out.append(f'AP by size (AI-TOD, px, objects): {aps}')
    if report['num_classes_without_gts']:
        out.append(f"{report['num_classes_without_gts']} class(es) without "
                   'non-difficult objects count as AP 0 in the mAP '
                   '(DOTA devkit)')
    return '\n'.join(out)


def _log(report: dict, logger) -> None:
    from mmcv.utils import print_log
    print_log('\n' + format_report(report), logger=logger)


def _gather_ground_truth(annotations: Sequence[DOTAAnnotation],
                         num_classes: int) -> list:
    """Per class: (polygons, image indices, difficult), grouped by image."""
    labels, polygons, difficult = [np.zeros(0, np.int64)], [np.zeros(
        (0, 8))], [np.zeros(0, bool)]
    for i, ann in enumerate(annotations):
        labels.append(np.asarray(ann.labels, np.int64).reshape(-1))
        polygons.append(np.asarray(ann.polygons, np.float64).reshape(-1, 8))
        difficult.append(np.asarray(ann.difficult, bool).reshape(-1))
        if len(labels[-1]) and (labels[-1].min() < 0 or
                                labels[-1].max() >= num_classes):
            raise ValueError(f'annotation of image {i}: label outside '
                             f'[0, {num_classes})')
        if not len(labels[-1]) == len(polygons[-1]) == len(difficult[-1]):
            raise ValueError(f'annotation of image {i}: labels, polygons '
                             'and difficult differ in length')
    images = np.repeat(np.arange(len(annotations), dtype=np.int64),
                       [len(lab) for lab in labels[1:]])
    labels = np.concatenate(labels)
    polygons, difficult = np.concatenate(polygons), np.concatenate(difficult)
    # a stable sort by class keeps image order, then file order
    order = np.argsort(labels, kind='stable')
    bounds = np.searchsorted(labels[order], np.arange(num_classes + 1))
    return [(polygons[idx], images[idx], difficult[idx])
            for idx in np.split(order, bounds[1:-1])]


def match_results(det_results: Sequence[Sequence[np.ndarray]],
                  annotations: Sequence[DOTAAnnotation],
                  num_classes: int) -> List[ClassMatches]:
    """Per-class :class:`ClassMatches` of in-memory results (see
    :func:`eval_polygon_map` for the arguments)."""
    if len(det_results) != len(annotations):
        raise ValueError(f'{len(det_results)} detection results for '
                         f'{len(annotations)} annotated images')
    for i, dets in enumerate(det_results):
        if len(dets) != num_classes:
            raise ValueError(f'image {i}: {len(dets)} detection arrays for '
                             f'{num_classes} classes')
    gts = _gather_ground_truth(annotations, num_classes)
    matches = []
    for c in range(num_classes):
        dets = [detections_to_polygons(img[c], f'image {i}, class {c}')
                for i, img in enumerate(det_results)]
        images = np.repeat(np.arange(len(dets)), [len(d) for d in dets])
        dets = np.concatenate(dets) if dets else np.zeros((0, 9))
        gt_polys, gt_images, gt_difficult = gts[c]
        matches.append(
            match_class(dets[:, :8], dets[:, 8], images, gt_polys, gt_images,
                        gt_difficult, len(annotations)))
    return matches


def eval_polygon_map(det_results: Sequence[Sequence[np.ndarray]],
                     annotations: Sequence[DOTAAnnotation],
                     num_classes: int,
                     iou_thr: Union[float, Sequence[float]] = 0.5,
                     use_07_metric: bool = True,
                     class_names: Optional[Sequence[str]] = None,
                     logger=None,
                     size_ranges: bool = False) -> dict:
    """DOTA Task1 mAP of in-memory results (rules: module docstring).

    Args:
        det_results: per image, per class, (K, 6) ``cx cy w h theta score``
            or (K, 9) ``x1 y1 ... x4 y4 score`` arrays.
        annotations: per image, the ground truth (:class:`DOTAAnnotation`).
        num_classes: number of classes; the mAP averages over all of them.
        iou_thr: a threshold, or several (then ``mAP_50``, ``mAP_55``, ...
            and their mean ``mAP_<min>_<max>`` are added; ``mAP`` and
            ``per_class`` are at the first threshold).
        use_07_metric: VOC07 11-point AP (devkit default) or VOC12 area AP.
        class_names: names for the report (default ``'0'``, ``'1'``, ...).
        logger: when given, the table is printed through mmcv's ``print_log``.
        size_ranges: add AP by AI-TOD size range (``AP_vt``, ``AP_t``,
            ``AP_s``, ``AP_m``, their ``num_gts_<range>`` and, with several
            thresholds, ``AP_<range>_<min>_<max>``; rules: module docstring).

    Returns:
        dict with ``mAP``, ``per_class`` (list of dict ``class, ap, num_gts,
        num_dets, recall, ap_per_iou``), ``iou_thrs``, ``use_07_metric``,
        ``num_classes_without_gts``, ``recall_<size>`` and ``num_gts_<size>``
        for tiny/small/medium/large, and the per-threshold keys.
    """
    class_names = _class_names(class_names, num_classes)
    report = summarize(match_results(det_results, annotations, num_classes),
                       class_names, iou_thr, use_07_metric, size_ranges)
    if logger is not None:
        _log(report, logger)
    return report


def _class_names(class_names: Optional[Sequence[str]],
                 num_classes: int) -> List[str]:
    if class_names is None:
        return [str(c) for c in range(num_classes)]
    if len(class_names) != num_classes:
        raise ValueError(f'{len(class_names)} class names for '
                         f'{num_classes} classes')
    return list(class_names)


def eval_hrsc(det_results: Sequence[Sequence[np.ndarray]],
              annotations: Sequence[DOTAAnnotation],
              num_classes: int = 1,
              class_names: Optional[Sequence[str]] = None,
              logger=None) -> Dict[str, float]:
    """HRSC2016 numbers from one matching pass.

    Returns:
        ``AP50_07`` (VOC07 11-point, the usual HRSC2016 mAP), ``AP50_12``
        (VOC12 area), ``AP75_12`` and ``AP50_95`` (VOC12 area AP averaged
        over IoU 0.50:0.05:0.95), each a mean over the classes.
    """
    class_names = _class_names(class_names, num_classes)
    matches = match_results(det_results, annotations, num_classes)
    voc07 = summarize(matches, class_names, 0.5, True)
    voc12 = summarize(matches, class_names, COCO_IOU_THRS, False)
    out = dict(AP50_07=voc07['mAP'], AP50_12=voc12['mAP'],
               AP75_12=voc12['mAP_75'], AP50_95=voc12['mAP_50_95'])
    if logger is not None:
        _log(voc07, logger)
        from mmcv.utils import print_log
        print_log(', '.join(f'{k}: {v:.4f}' for k, v in out.items()),
                  logger=logger)
    return out


def eval_dota_task1(det_dir: str,
                    ann_dir: str,
                    classes: Sequence[str],
                    iou_thr: Union[float, Sequence[float]] = 0.5,
                    use_07_metric: bool = True,
                    logger=None,
                    size_ranges: bool = False,
                    on_invalid: str = 'error',
                    workers: Optional[int] = None) -> dict:
    """Evaluate Task1 submission files against DOTA label files.

    Args:
        det_dir: folder (or ``.zip``) holding ``Task1_<class>.txt`` (lines
            ``image score x1 y1 ... x4 y4``), directly or under ``Task1/``.
        ann_dir: folder of label files; its ``.txt`` files are the image set.
        classes: the class list (mAP averages over all of it).
        iou_thr, use_07_metric, logger, size_ranges: as
            :func:`eval_polygon_map`.
        on_invalid: an invalid label line is an error (``'error'``) or its
            object is left out of the ground truth with a warning
            (``'skip'``; the image stays).
        workers: processes reading and matching the class files (one class
            file each at a time; reading the numbers is most of the time).
            None: one per available core, at most 4, where processes can be
            forked and the files hold at least 8 MiB; 1: this process only.
            The report is the same for any number.

    Returns:
        The report of :func:`eval_polygon_map`; detections are taken in file
        order, as the devkit reads them.

    Raises:
        FileNotFoundError: a class file is missing.
        ValueError: a malformed line, or a detection of an image without a
            label file (``path:line: reason``).
    """
    check_on_invalid(on_invalid)
    label_files = list_label_files(ann_dir)
    names = [osp.splitext(osp.basename(f))[0] for f in label_files]
    image_index = {name: i for i, name in enumerate(names)}
    annotations, skipped = [], 0
    for label_file in label_files:
        scan = scan_dota_labels(label_file, classes)
        skipped += handle_invalid(scan.problems, on_invalid)
        annotations.append(scan.ann)
    warn_skipped(skipped, f'the label files of {ann_dir}')
    files = task1_files(det_dir, classes)
    context = _Task1Context(files, image_index, names,
                            _gather_ground_truth(annotations, len(classes)),
                            ann_dir)
    workers = _task1_workers(workers, files)
    if workers == 1:
        matches = [context.match(c) for c in range(len(files))]
    else:
        # fork: the workers inherit the ground truth instead of receiving it
        with multiprocessing.get_context('fork').Pool(
                workers, _set_task1_context, (context, )) as pool:
            matches = pool.map(_match_task1_class, range(len(files)),
                               chunksize=1)
    report = summarize(matches, list(classes), iou_thr, use_07_metric,
                       size_ranges)
    if logger is not None:
        _log(report, logger)
    return report


# Task1 files of at least this size are read by several processes: below,
# starting them costs more than it saves.
PARALLEL_TASK1_BYTES = 8 * 2**20


@dataclass
class _Task1Context:
    """What matching one class file needs: the submission's files, the image
    set (``image_index``: name -> index, ``names``), the ground truth per
    class and the label folder (for messages)."""
    files: list
    image_index: Dict[str, int]
    names: List[str]
    gts: list
    ann_dir: str

    def match(self, c: int) -> 'ClassMatches':
        task1 = self.files[c]
        records = parse_task1(task1.read(), task1.name)
        known = np.array(
            [self.image_index.get(name, -1) for name in records.names],
            np.int64)
        det_images = known[records.image_index]
        if np.any(det_images < 0):
            unknown = np.flatnonzero(det_images < 0)
            k = int(unknown[0])
            raise InputError(
                task1.name, f'image {records.names[records.image_index[k]]!r} '
                f'has no label file in {self.ann_dir} ({len(unknown)} such '
                'lines)', int(records.lines[k]))
        gt_polys, gt_images, gt_difficult = self.gts[c]
        return match_class(records.polygons, records.scores, det_images,
                           gt_polys, gt_images, gt_difficult, len(self.names))


_TASK1_CONTEXT: Optional[_Task1Context] = None


def _set_task1_context(context: _Task1Context) -> None:
    global _TASK1_CONTEXT
    _TASK1_CONTEXT = context


def _match_task1_class(c: int) -> 'ClassMatches':
    return _TASK1_CONTEXT.match(c)


def _task1_workers(workers: Optional[int], files: list) -> int:
    """The number of processes for :func:`eval_dota_task1` (see there)."""
    if workers is not None and workers < 1:
        raise ValueError(f'workers must be at least 1, got {workers}')
    # a daemonic process (e.g. a data-loading worker) may not have children
    if 'fork' not in multiprocessing.get_all_start_methods() or \
            multiprocessing.current_process().daemon:
        return 1
    if workers is None:
        if sum(f.size() for f in files) < PARALLEL_TASK1_BYTES:
            return 1
        cores = (len(os.sched_getaffinity(0)) if hasattr(
            os, 'sched_getaffinity') else os.cpu_count() or 1)
        workers = min(cores, 4)
    return max(1, min(workers, len(files)))

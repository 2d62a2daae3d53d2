"""Merge detections made on patches back into whole images.

A patch named ``{image}__{rate}__{x}___{y}`` was cut at ``(x, y)`` from the
image resized by ``rate`` (see :mod:`rotated_tod.datasets.dota_split`), so a
patch box ``(cx, cy, w, h, theta)`` is, in the image,

    ((cx + x) / rate, (cy + y) / rate, w / rate, h / rate, theta)

(a uniform scaling keeps the angle). Per image and class, the boxes of all
patches then go through one NMS (rotated IoU 0.1 by default, or any
``nms_cfg`` of :func:`rotated_tod.core.post_processing.nms.rotated_nms`),
which removes the duplicates of objects seen by several overlapping patches
or rates. The default rotated-IoU NMS runs as
:func:`~rotated_tod.core.post_processing.sparse_nms.sparse_nms_rotated`
(mmcv's result, without the IoU of boxes that are apart).
"""
from functools import partial
from multiprocessing import get_all_start_methods, get_context
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from tqdm import tqdm

from ..fileio import parse_patch_id
from .nms import rotated_nms
from .sparse_nms import sparse_nms_rotated

PatchEntry = Tuple[float, int, int, List[np.ndarray]]


def patch_to_image_boxes(dets: np.ndarray, rate: float, x: float,
                         y: float) -> np.ndarray:
    """(K, 6) ``xywha, score`` patch detections -> image coordinates
    (a new array; see the module docstring for the formula)."""
    out = np.array(dets, dtype=np.float32, copy=True).reshape(-1, 6)
    out[:, 0] = (out[:, 0] + x) / rate
    out[:, 1] = (out[:, 1] + y) / rate
    out[:, 2:4] /= rate
    return out


def _check_result(result: Sequence[np.ndarray], num_classes: int,
                  where: str) -> None:
    if len(result) != num_classes:
        raise ValueError(f'{where}: {len(result)} class arrays, expected '
                         f'{num_classes}')
    for c, dets in enumerate(result):
        dets = np.asarray(dets)
        if dets.ndim != 2 or dets.shape[1] != 6:
            raise ValueError(f'{where}: class {c} detections must be (K, 6) '
                             f'xywha+score, got shape {dets.shape}')


def merge_image_results(entries: Sequence[PatchEntry], num_classes: int,
                        nms_cfg: dict) -> List[np.ndarray]:
    """Merge the patches of one image.

    Args:
        entries: ``(rate, x, y, result)`` per patch, ``result`` a list over
            classes of (K, 6) ``xywha, score`` arrays in patch coordinates.
        num_classes: number of classes.
        nms_cfg: NMS config of
            :func:`rotated_tod.core.post_processing.nms.rotated_nms`.

    Returns:
        list over classes of (K, 6) float32 image-coordinate detections, by
        decreasing score; (0, 6) where a class has none.
    """
    arrays, counts, labels, placement = [], [], [], []
    for rate, x, y, result in entries:
        for c, dets in enumerate(result):
            if len(dets):
                arrays.append(dets)
                counts.append(len(dets))
                labels.append(c)
                placement.append((rate, x, y))
    if not arrays:
        return [np.zeros((0, 6), np.float32) for _ in range(num_classes)]
    # patch_to_image_boxes for all patches at once (the same float32 steps)
    dets = np.concatenate(arrays).astype(np.float32).reshape(-1, 6)
    labels = np.repeat(labels, counts)
    rate, x, y = np.repeat(np.array(placement, np.float32), counts, 0).T
    dets[:, 0] = (dets[:, 0] + x) / rate
    dets[:, 1] = (dets[:, 1] + y) / rate
    dets[:, 2:4] /= rate[:, None]
    # stable: each class keeps patch order, then in-patch order
    order = np.argsort(labels, kind='stable')
    bounds = np.searchsorted(labels[order], np.arange(num_classes + 1))
    sparse = nms_cfg.get('type', 'rotated') == 'rotated' and set(
        nms_cfg) <= {'type', 'iou_thr'} and float(nms_cfg.get('iou_thr', 0)) > 0
    merged = []
    for c in range(num_classes):
        cls_dets = torch.from_numpy(dets[order[bounds[c]:bounds[c + 1]]])
        if len(cls_dets) == 0:
            merged.append(np.zeros((0, 6), np.float32))
            continue
        if sparse:
            kept, _ = sparse_nms_rotated(cls_dets[:, :5], cls_dets[:, 5],
                                         float(nms_cfg['iou_thr']))
        else:
            kept, _ = rotated_nms(cls_dets[:, :5], cls_dets[:, 5], nms_cfg)
        merged.append(kept.numpy().astype(np.float32))
    return merged


def _merge_worker(item: Tuple[str, List[PatchEntry]], num_classes: int,
                  nms_cfg: dict) -> Tuple[str, List[np.ndarray]]:
    # One thread per worker: the pool already uses the cores.
    torch.set_num_threads(1)
    image_id, entries = item
    return image_id, merge_image_results(entries, num_classes, nms_cfg)


def merge_patch_results(patch_ids: Sequence[str],
                        patch_results: Sequence[List[np.ndarray]],
                        num_classes: int,
                        iou_thr: float = 0.1,
                        nms_cfg: Optional[dict] = None,
                        nproc: int = 1,
                        progress: bool = True) -> Dict[str, List[np.ndarray]]:
    """Per-patch results -> per-image results in image coordinates.

    Args:
        patch_ids: patch names ``{image}__{rate}__{x}___{y}`` (a name
            without the pattern is a whole image at rate 1).
        patch_results: per patch, a list over classes of (K, 6)
            ``xywha, score`` arrays in patch coordinates.
        num_classes: number of classes.
        iou_thr: rotated-IoU threshold of the NMS when ``nms_cfg`` is None.
        nms_cfg: NMS config for
            :func:`rotated_tod.core.post_processing.nms.rotated_nms`, e.g.
            ``dict(type='gaussian', metric='nwd', iou_thr=0.8)``.
        nproc: worker processes (CPU only; images are merged in parallel).
        progress: show a progress bar.

    Returns:
        ``{image: [per class (K, 6) float32]}`` with every image of
        ``patch_ids`` (in order of first appearance), classes without
        detections as (0, 6) arrays.
    """
    if len(patch_ids) != len(patch_results):
        raise ValueError(f'{len(patch_ids)} patch ids for '
                         f'{len(patch_results)} patch results')
    if nms_cfg is None:
        nms_cfg = dict(type='rotated', iou_thr=iou_thr)
    groups: Dict[str, List[PatchEntry]] = {}
    for patch_id, result in zip(patch_ids, patch_results):
        _check_result(result, num_classes, f'patch {patch_id}')
        image_id, rate, x, y = parse_patch_id(patch_id)
        groups.setdefault(image_id, []).append((rate, x, y, result))
    worker = partial(_merge_worker, num_classes=num_classes, nms_cfg=nms_cfg)
    bar = tqdm(total=len(groups), desc='merge', unit='img',
               disable=not progress)
    merged = {}
    if nproc > 1 and len(groups) > 1:
        methods = get_all_start_methods()
        context = get_context('fork' if 'fork' in methods else 'spawn')
        with context.Pool(min(nproc, len(groups))) as pool:
            for image_id, result in pool.imap(worker, groups.items()):
                merged[image_id] = result
                bar.update(1)
    else:
        for image_id, entries in groups.items():
            merged[image_id] = merge_image_results(entries, num_classes,
                                                   nms_cfg)
            bar.update(1)
    bar.close()
    return merged

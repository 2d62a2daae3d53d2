"""Non-maximum suppression for rotated boxes, by rotated IoU or by a Gaussian
similarity (NWD, KLD, GWD, ... from :mod:`rotated_tod.core.bbox.gaussian`).

The NMS kind is chosen by ``nms_cfg['type']``:

- ``'rotated'`` (the default when ``type`` is absent): mmcv's ``nms_rotated``,
  suppressing a box whose rotated IoU with a kept, higher scoring box is
  ``> iou_thr``. Keys: ``iou_thr``.
- ``'gaussian'``: the same greedy rule with ``similarity > iou_thr`` where the
  similarity is :func:`gaussian_similarity` (in [0, 1], 1 for identical
  boxes). Keys: ``metric`` (default ``'nwd'``), ``iou_thr`` (``thr`` is
  accepted as its alias), ``params`` (a dict passed to
  :func:`gaussian_similarity`, e.g. ``dict(C=12.8)``).

Tiny objects have IoU close to 0 as soon as they are a few pixels apart, so
rotated-IoU NMS leaves duplicates around them; a Gaussian similarity decays
smoothly with the centre distance instead.

:func:`multiclass_nms_rotated` is a drop-in replacement for mmrotate's
function of the same name that honours ``nms=dict(type=...)``;
:func:`install_multiclass_nms_rotated` puts it into mmrotate's heads.
"""
import sys
from typing import Dict, Mapping, Optional, Tuple

import numpy as np
import torch
from mmcv.ops import nms_rotated
from mmrotate.core.post_processing import bbox_nms_rotated

from ..bbox.gaussian import gaussian_similarity

# Boxes are handled in blocks of this many (sorted by score) so that the
# similarity matrix held at once is at most BLOCK x N.
_BLOCK = 512

_KEYS = {
    'rotated': {'type', 'iou_thr'},
    'gaussian': {'type', 'iou_thr', 'thr', 'metric', 'params'},
}


def _threshold(nms_cfg: Mapping) -> float:
    if 'thr' in nms_cfg and 'iou_thr' in nms_cfg:
        raise ValueError('nms_cfg: give either iou_thr or thr, not both')
    if 'iou_thr' in nms_cfg:
        return float(nms_cfg['iou_thr'])
    if 'thr' in nms_cfg:
        return float(nms_cfg['thr'])
    raise KeyError(f'nms_cfg {dict(nms_cfg)} needs iou_thr')


def _check_cfg(nms_cfg: Mapping) -> str:
    nms_type = nms_cfg.get('type', 'rotated')
    if nms_type not in _KEYS:
        raise ValueError(f'unknown nms type {nms_type!r}; expected one of '
                         f'{sorted(_KEYS)}')
    unknown = set(nms_cfg) - _KEYS[nms_type]
    if unknown:
        raise ValueError(f'nms type {nms_type!r} does not take '
                         f'{sorted(unknown)}')
    return nms_type


def gaussian_nms(boxes: torch.Tensor, scores: torch.Tensor, thr: float,
                 metric: str = 'nwd',
                 params: Optional[Dict] = None) -> torch.Tensor:
    """Greedy NMS by Gaussian similarity.

    Args:
        boxes: (N, 5) ``xywha`` boxes.
        scores: (N,) scores.
        thr: a box is suppressed when its similarity with a kept box of a
            higher score is ``> thr``.
        metric, params: see :func:`gaussian_similarity`.

    Returns:
        (K,) long indices of the kept boxes into ``boxes``, by decreasing
        score (ties keep the input order).
    """
    params = dict(params or {})
    order = torch.sort(scores, descending=True, stable=True)[1]
    sorted_boxes = boxes[order]
    num = sorted_boxes.shape[0]
    suppressed = torch.zeros(num, dtype=torch.bool, device=boxes.device)
    kept = []
    for start in range(0, num, _BLOCK):
        stop = min(num, start + _BLOCK)
        alive = (~suppressed[start:stop]).nonzero(as_tuple=True)[0] + start
        if alive.numel() == 0:
            continue
        block = sorted_boxes[alive]
        over = (gaussian_similarity(block, block, metric, **params)
                > thr).cpu().numpy()
        # Greedy resolution inside the block (a small matrix, so a Python
        # loop over its rows is cheap); rows only suppress later columns.
        over = np.triu(over, k=1)
        dead = np.zeros(len(alive), dtype=bool)
        for i in range(len(alive)):
            if not dead[i]:
                dead |= over[i]
        block_kept = alive[torch.from_numpy(~dead).to(alive.device)]
        kept.append(block_kept)
        rest = (~suppressed[stop:]).nonzero(as_tuple=True)[0] + stop
        if rest.numel() == 0:
            continue
        sim = gaussian_similarity(sorted_boxes[block_kept],
                                  sorted_boxes[rest], metric, **params)
        suppressed[rest[(sim > thr).any(0)]] = True
    if not kept:
        return order.new_zeros(0)
    return order[torch.cat(kept)]


def rotated_nms(boxes: torch.Tensor, scores: torch.Tensor,
                nms_cfg: Mapping) -> Tuple[torch.Tensor, torch.Tensor]:
    """NMS of rotated boxes, dispatching on ``nms_cfg['type']`` (see the
    module docstring).

    Args:
        boxes: (N, 5) ``xywha`` boxes (any float dtype, any device).
        scores: (N,) scores.
        nms_cfg: e.g. ``dict(iou_thr=0.1)`` or
            ``dict(type='gaussian', metric='nwd', iou_thr=0.8)``.

    Returns:
        dets (K, 6) kept boxes with their score appended, by decreasing
        score; keep (K,) long indices into ``boxes``.
    """
    if boxes.dim() != 2 or boxes.shape[-1] != 5:
        raise ValueError(f'boxes must be (N, 5), got {tuple(boxes.shape)}')
    if scores.shape != boxes.shape[:1]:
        raise ValueError(f'scores must be ({boxes.shape[0]},), got '
                         f'{tuple(scores.shape)}')
    nms_type = _check_cfg(nms_cfg)
    thr = _threshold(nms_cfg)
    if boxes.shape[0] == 0:
        keep = torch.zeros(0, dtype=torch.long, device=boxes.device)
    elif nms_type == 'rotated':
        keep = nms_rotated(boxes, scores, thr)[1].long()
    else:
        keep = gaussian_nms(boxes, scores, thr,
                            metric=nms_cfg.get('metric', 'nwd'),
                            params=nms_cfg.get('params'))
    dets = torch.cat([boxes[keep], scores[keep, None].to(boxes.dtype)], 1)
    return dets, keep


def multiclass_nms_rotated(multi_bboxes: torch.Tensor,
                           multi_scores: torch.Tensor,
                           score_thr: float,
                           nms: Mapping,
                           max_num: int = -1,
                           score_factors: Optional[torch.Tensor] = None,
                           return_inds: bool = False) -> tuple:
    """mmrotate's ``multiclass_nms_rotated`` that honours ``nms['type']``.

    Without a type, or with ``type='rotated'``, it is mmrotate's function
    itself (same results, bit for bit). With ``type='gaussian'`` it selects
    the boxes above ``score_thr`` exactly as mmrotate does, runs
    :func:`gaussian_nms` separately per class (a Gaussian similarity never
    vanishes exactly, so the class-offset trick of the rotated path could
    let classes suppress each other) and orders the result by decreasing
    score.

    Args:
        multi_bboxes: (n, #class * 5) or (n, 5).
        multi_scores: (n, #class + 1), the last column is the background.
        score_thr: boxes with a score ``<= score_thr`` are dropped.
        nms: NMS config, see :func:`rotated_nms`.
        max_num: keep at most this many boxes (all if <= 0).
        score_factors: (n,) factors multiplied into the scores.
        return_inds: also return the indices into the flattened
            (n * #class) candidates.

    Returns:
        dets (k, 6), labels (k,) and, with ``return_inds``, inds (k,).
    """
    nms_type = _check_cfg(nms)
    if nms_type == 'rotated':
        return _MMROTATE_MULTICLASS_NMS(multi_bboxes, multi_scores, score_thr,
                                        nms, max_num, score_factors,
                                        return_inds)
    thr = _threshold(nms)
    num_classes = multi_scores.size(1) - 1
    if multi_bboxes.shape[1] > 5:
        bboxes = multi_bboxes.view(multi_scores.size(0), -1, 5)
    else:
        bboxes = multi_bboxes[:, None].expand(multi_scores.size(0),
                                              num_classes, 5)
    scores = multi_scores[:, :-1]
    labels = torch.arange(num_classes, dtype=torch.long,
                          device=scores.device).view(1, -1).expand_as(scores)
    bboxes = bboxes.reshape(-1, 5)
    scores = scores.reshape(-1)
    labels = labels.reshape(-1)
    valid_mask = scores > score_thr
    if score_factors is not None:
        score_factors = score_factors.view(-1, 1).expand(
            multi_scores.size(0), num_classes).reshape(-1)
        scores = scores * score_factors
    inds = valid_mask.nonzero(as_tuple=False).squeeze(1)
    bboxes, scores, labels = bboxes[inds], scores[inds], labels[inds]

    keep = []
    for label in labels.unique():
        members = (labels == label).nonzero(as_tuple=True)[0]
        keep.append(members[gaussian_nms(
            bboxes[members], scores[members], thr,
            metric=nms.get('metric', 'nwd'), params=nms.get('params'))])
    if keep:
        keep = torch.cat(keep)
        keep = keep[torch.sort(scores[keep], descending=True,
                               stable=True)[1]]
    else:
        keep = inds.new_zeros(0)
    if max_num > 0:
        keep = keep[:max_num]
    dets = torch.cat([bboxes[keep], scores[keep, None]], 1)
    if return_inds:
        return dets, labels[keep], inds[keep]
    return dets, labels[keep]


_MMROTATE_MULTICLASS_NMS = bbox_nms_rotated.multiclass_nms_rotated

# The mmrotate modules that bind ``multiclass_nms_rotated`` as a module
# global when they are imported (``from mmrotate.core import ...``).
_HEAD_MODULES = (
    'mmrotate.models.dense_heads.rotated_anchor_head',
    'mmrotate.models.dense_heads.rotated_fcos_head',
    'mmrotate.models.dense_heads.csl_rotated_fcos_head',
    'mmrotate.models.dense_heads.csl_rotated_retina_head',
    'mmrotate.models.dense_heads.rotated_reppoints_head',
    'mmrotate.models.dense_heads.oriented_reppoints_head',
    'mmrotate.models.dense_heads.sam_reppoints_head',
    'mmrotate.models.roi_heads.bbox_heads.rotated_bbox_head',
    'mmrotate.models.roi_heads.bbox_heads.gv_bbox_head',
)


def install_multiclass_nms_rotated() -> None:
    """Make mmrotate's heads call :func:`multiclass_nms_rotated` (this
    module's), so that ``test_cfg.nms=dict(type='gaussian', ...)`` selects
    Gaussian NMS in any of them.

    mmrotate's heads import ``multiclass_nms_rotated`` by name, so patching
    ``mmrotate.core`` alone would not reach them: the module global of each
    head module listed in ``_HEAD_MODULES`` is replaced, as well as the
    exports of ``mmrotate.core`` and ``mmrotate.core.post_processing`` (for
    code that imports it later). Heads that inherit from these modules
    (e.g. RotatedRetinaHead from RotatedAnchorHead) use the patched global
    of the module that defines the calling method. Without ``nms.type``
    the behaviour is unchanged. Idempotent; called once when this module
    is imported.
    """
    import importlib

    import mmrotate.core
    import mmrotate.core.post_processing

    for name in _HEAD_MODULES:
        module = sys.modules.get(name) or importlib.import_module(name)
        module.multiclass_nms_rotated = multiclass_nms_rotated
    mmrotate.core.multiclass_nms_rotated = multiclass_nms_rotated
    mmrotate.core.post_processing.multiclass_nms_rotated = \
        multiclass_nms_rotated


install_multiclass_nms_rotated()

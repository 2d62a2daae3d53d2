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

- ``'soft_rotated'``: soft-NMS (Bodla et al., "Soft-NMS -- Improving Object
  Detection With One Line of Code", ICCV 2017) by rotated IoU: the boxes are
  taken by decreasing *current* score and each taken box decays the scores
  of the remaining ones, ``s <- s (1 - IoU)`` where ``IoU >= iou_thr``
  (``method='linear'``) or ``s <- s exp(-IoU^2 / sigma)`` (``'gaussian'``);
  boxes whose score falls below ``min_score`` are dropped. Keys (mmcv's
  ``soft_nms`` names and defaults): ``iou_thr`` (0.3), ``sigma`` (0.5),
  ``min_score`` (1e-3), ``method`` (``'linear'``). The returned scores are
  the decayed ones. mmcv and mmrotate only have a horizontal soft-NMS.

Tiny objects have IoU close to 0 as soon as they are a few pixels apart, so
rotated-IoU NMS leaves duplicates around them; a Gaussian similarity decays
smoothly with the centre distance instead.

:func:`multiclass_nms_rotated` is a drop-in replacement for mmrotate's
function of the same name that honours ``nms=dict(type=...)``;
:mod:`rotated_tod.compat` installs it into mmrotate's heads.
"""
from typing import Dict, Mapping, Optional, Tuple

import numpy as np
import torch
from mmcv import ConfigDict
from mmcv.ops import nms_rotated
from mmrotate.core.post_processing import bbox_nms_rotated

from ..bbox.gaussian import gaussian_similarity
from ..bbox.rotated_overlaps import rbbox_overlaps_sparse

# mmrotate's own function (kept for the default kind; rotated_tod.compat
# replaces the name in mmrotate's modules by ours).
_MMROTATE_MULTICLASS_NMS = bbox_nms_rotated.multiclass_nms_rotated

# Soft-NMS keeps the N x N IoU table of up to this many boxes (64 MB).
_SOFT_TABLE_MAX = 4096

# Boxes are handled in blocks of this many (sorted by score) so that the
# similarity matrix held at once is at most BLOCK x N.
_BLOCK = 512

_KEYS = {
    'rotated': {'type', 'iou_thr'},
    'gaussian': {'type', 'iou_thr', 'thr', 'metric', 'params'},
    'soft_rotated': {'type', 'iou_thr', 'sigma', 'min_score', 'method'},
}
_SOFT_METHODS = ('linear', 'gaussian')
# mmrotate's function ignores ``nms.type``, and its RoI Transformer and ReDet
# configs set it to the angle version: those values mean the default kind.
_MMROTATE_TYPES = ('oc', 'le90', 'le135')


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


def soft_rotated_nms(boxes: torch.Tensor, scores: torch.Tensor,
                     iou_thr: float = 0.3, sigma: float = 0.5,
                     min_score: float = 1e-3,
                     method: str = 'linear') -> Tuple[torch.Tensor, torch.Tensor]:
    """Soft-NMS of rotated boxes (see the module docstring).

    The same rule as mmcv's horizontal ``soft_nms`` (which it equals on
    axis-aligned boxes): at each step the remaining box of the highest
    current score is taken (the first in input order on ties), the others
    are decayed by their rotated IoU with it and dropped below
    ``min_score``. The IoU is mmrotate's (:func:`rbbox_overlaps_sparse`):
    an N x N table up to ``_SOFT_TABLE_MAX`` boxes, else one row per taken
    box (O(N) memory).

    Args:
        boxes: (N, 5) ``xywha`` boxes.
        scores: (N,) scores.
        iou_thr: linear decay only where ``IoU >= iou_thr``.
        sigma: Gaussian decay width.
        min_score: boxes decayed below it are dropped.
        method: ``'linear'`` or ``'gaussian'``.

    Returns:
        scores (K,) decayed scores of the kept boxes, in the order they were
        taken; keep (K,) long indices into ``boxes``.
    """
    if method not in _SOFT_METHODS:
        raise ValueError(f'soft-NMS method must be one of {_SOFT_METHODS}, '
                         f'got {method!r}')
    num = boxes.shape[0]
    # All pairwise IoUs at once when they fit (one sparse pass instead of
    # one call per taken box); row by row beyond.
    table = (rbbox_overlaps_sparse(boxes, boxes).to(scores.dtype)
             if num <= _SOFT_TABLE_MAX else None)
    current = scores.clone()
    alive = torch.ones(num, dtype=torch.bool, device=boxes.device)
    lowest = current.new_tensor(float('-inf'))
    keep = []
    for _ in range(num):
        best = int(torch.argmax(torch.where(alive, current, lowest)))
        if not bool(alive[best]):
            break
        keep.append(best)
        alive[best] = False
        if table is None:
            others = alive.nonzero(as_tuple=True)[0]
            iou = current.new_zeros(num)
            iou[others] = rbbox_overlaps_sparse(
                boxes[best][None], boxes[others])[0].to(current.dtype)
        else:
            iou = table[best]
        if method == 'linear':
            decay = torch.where(iou >= iou_thr, 1 - iou, torch.ones_like(iou))
        else:
            decay = torch.exp(-iou * iou / sigma)
        # Taken boxes keep the score they were taken with.
        current = torch.where(alive, current * decay, current)
        alive &= current >= min_score
    keep = torch.tensor(keep, dtype=torch.long, device=boxes.device)
    return current[keep], keep


def _select(boxes: torch.Tensor, scores: torch.Tensor, nms_type: str,
            nms_cfg: Mapping) -> Tuple[torch.Tensor, torch.Tensor]:
    """(scores, keep) of the kept boxes for one NMS kind."""
    if boxes.shape[0] == 0:
        return scores[:0], torch.zeros(0, dtype=torch.long,
                                       device=boxes.device)
    if nms_type == 'soft_rotated':
        return soft_rotated_nms(boxes, scores,
                                iou_thr=float(nms_cfg.get('iou_thr', 0.3)),
                                sigma=float(nms_cfg.get('sigma', 0.5)),
                                min_score=float(nms_cfg.get('min_score', 1e-3)),
                                method=nms_cfg.get('method', 'linear'))
    thr = _threshold(nms_cfg)
    if nms_type == 'rotated':
        keep = nms_rotated(boxes, scores, thr)[1].long()
    else:
        keep = gaussian_nms(boxes, scores, thr,
                            metric=nms_cfg.get('metric', 'nwd'),
                            params=nms_cfg.get('params'))
    return scores[keep], keep


def rotated_nms(boxes: torch.Tensor, scores: torch.Tensor,
                nms_cfg: Mapping) -> Tuple[torch.Tensor, torch.Tensor]:
    """NMS of rotated boxes, dispatching on ``nms_cfg['type']`` (see the
    module docstring).

    Args:
        boxes: (N, 5) ``xywha`` boxes (any float dtype, any device).
        scores: (N,) scores.
        nms_cfg: e.g. ``dict(iou_thr=0.1)``,
            ``dict(type='gaussian', metric='nwd', iou_thr=0.8)`` or
            ``dict(type='soft_rotated', iou_thr=0.5)``.

    Returns:
        dets (K, 6) kept boxes with their score appended (decayed by
        soft-NMS), by decreasing score; keep (K,) long indices into
        ``boxes``.
    """
    if boxes.dim() != 2 or boxes.shape[-1] != 5:
        raise ValueError(f'boxes must be (N, 5), got {tuple(boxes.shape)}')
    if scores.shape != boxes.shape[:1]:
        raise ValueError(f'scores must be ({boxes.shape[0]},), got '
                         f'{tuple(scores.shape)}')
    nms_type = _check_cfg(nms_cfg)
    kept_scores, keep = _select(boxes, scores, nms_type, nms_cfg)
    dets = torch.cat([boxes[keep], kept_scores[:, None].to(boxes.dtype)], 1)
    return dets, keep


def multiclass_nms_rotated(multi_bboxes: torch.Tensor,
                           multi_scores: torch.Tensor,
                           score_thr: float,
                           nms: Mapping,
                           max_num: int = -1,
                           score_factors: Optional[torch.Tensor] = None,
                           return_inds: bool = False) -> tuple:
    """mmrotate's ``multiclass_nms_rotated`` that honours ``nms['type']``.

    Without a type, or with ``type='rotated'`` (or an angle version, which
    mmrotate's RoI Transformer configs put there), it is mmrotate's
    function itself (same results, bit for bit). With ``type='gaussian'`` or
    ``'soft_rotated'`` it selects the boxes above ``score_thr`` exactly as
    mmrotate does, runs :func:`gaussian_nms` / :func:`soft_rotated_nms`
    separately per class (a Gaussian similarity never vanishes exactly, so
    the class-offset trick of the rotated path could let classes suppress
    each other) and orders the result by decreasing (decayed) score.

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
    # mmrotate's function reads ``nms.iou_thr``: a plain dict is wrapped.
    nms = ConfigDict(nms)
    if nms.get('type') in _MMROTATE_TYPES:
        nms = ConfigDict({k: v for k, v in nms.items() if k != 'type'})
    nms_type = _check_cfg(nms)
    if nms_type == 'rotated':
        return _MMROTATE_MULTICLASS_NMS(multi_bboxes, multi_scores, score_thr,
                                        nms, max_num, score_factors,
                                        return_inds)
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

    keep, kept_scores = [], []
    for label in labels.unique():
        members = (labels == label).nonzero(as_tuple=True)[0]
        class_scores, class_keep = _select(bboxes[members], scores[members],
                                           nms_type, nms)
        keep.append(members[class_keep])
        kept_scores.append(class_scores)
    if keep:
        keep, kept_scores = torch.cat(keep), torch.cat(kept_scores)
        order = torch.sort(kept_scores, descending=True, stable=True)[1]
        keep, kept_scores = keep[order], kept_scores[order]
    else:
        keep, kept_scores = inds.new_zeros(0), scores.new_zeros(0)
    if max_num > 0:
        keep, kept_scores = keep[:max_num], kept_scores[:max_num]
    dets = torch.cat([bboxes[keep], kept_scores[:, None]], 1)
    if return_inds:
        return dets, labels[keep], inds[keep]
    return dets, labels[keep]

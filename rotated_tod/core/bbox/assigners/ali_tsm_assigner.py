"""Ali-TSM, the two-stage assignment of KLDet ("KLDet: Detecting Tiny
Objects in Remote Sensing Images via Kullback-Leibler Divergence"), with
KLD similarity and class scores; without scores it is RFLA's hierarchical
assignment (C. Xu et al., ECCV 2022)."""
from typing import Dict, Optional, Sequence

import torch
from mmdet.core.bbox.assigners.assign_result import AssignResult
from mmdet.core.bbox.assigners.base_assigner import BaseAssigner
from mmrotate.core.bbox.builder import ROTATED_BBOX_ASSIGNERS
from mmrotate.core.bbox.iou_calculators.builder import build_iou_calculator

from ..gaussian import gaussian_similarity

STAGE2_RULES = ('local', 'global')


@ROTATED_BBOX_ASSIGNERS.register_module()
class AliTSMAssigner(BaseAssigner):
    """Two-stage label assignment of KLDet (Ali-TSM), for rotated GTs.

    With ``s[i, g] = sigmoid(cls_logit[i, label_g])`` (detached):

    1. ``m1 = s^alpha * KLDsim^beta``, ``KLDsim = 1 / (1 + KL(prior || GT))``.
       Each GT takes its ``topk[0]`` priors by ``m1`` as positives; a prior
       whose best ``m1`` over the GTs is below ``neg_thr`` is negative, the
       others are ignored.
    2. The priors shrunk by ``ratio`` (new boxes: the input priors are shared
       by every image of a batch and are never modified),
       ``m2 = (1 - alpha_m) * s + alpha_m * overlap(shrunk prior, GT)``; each
       GT adds its ``topk[1]`` priors by ``m2`` among its stage-2 candidates:
       the priors not positive after stage 1 and, with ``stage2='local'``
       (ours, the default), whose shrunk box overlaps the GT (rotated IoU >
       0, whatever ``overlap_calculator`` is). ``stage2='global'`` is the
       paper's literal rule, over all the image's priors: for a tiny GT the
       overlaps of its nearby shrunk priors are small (below ~0.07 for a
       6 x 3 px GT and 16 px priors), so any prior whose class score exceeds
       theirs by ~0.2 wins, wherever it is, e.g. a prior next to another
       confident object 200 px away, which then learns this GT's box.

       Why "overlap > 0" and not "centre inside the GT Gaussian's 3-sigma
       region": with equal scores m2 ranks by overlap, so the overlap rule
       never changes that ranking's winner, while the 3-sigma region of a
       thin GT can exclude it (the best 14.4 px shrunk prior of a 20 x 3
       px GT may sit 3.4 sigma from its centre, across its axis). The
       price: on coarse levels the shrunk receptive-field prior is large
       (about 220 px at P6), so a prior up to ~110 px away can still be
       chosen there, but only one whose box holds part of the GT.

    A prior chosen by several GTs in one stage goes to the GT with the larger
    metric of that stage. With isotropic priors only the Mahalanobis term
    ``delta^T S_gt^-1 delta`` of the KLD depends on the GT angle, so priors
    along a GT's long axis rank first.

    Without class scores (``cls_scores=None``, which needs ``alpha=0`` and
    ``alpha_m=1``) both stages are geometric: with ``beta=1`` and a KLD
    similarity as the stage-2 overlap it is RFLA's hierarchical assignment.

    Args:
        topk: ``(k1, k2)``, positives per GT in each stage.
        ratio: side scale of the stage-2 priors.
        alpha, beta: exponents of the score and the KLD similarity in ``m1``.
        alpha_m: weight of the overlap in ``m2``.
        neg_thr: priors whose best ``m1`` is below it are negatives.
        overlap_calculator: the stage-2 overlap, a ``ROTATED_IOU_CALCULATORS``
            config called as ``(shrunk_priors (N, 5), gts (M, 5)) -> (N, M)``:
            rotated IoU (``SparseRBboxOverlaps2D``) or a Gaussian similarity
            (``RBboxGaussianOverlaps2D``); default rotated IoU.
        stage2: ``'local'`` or ``'global'`` stage-2 candidates, see above.
    """

    def __init__(self,
                 topk: Sequence[int] = (3, 1),
                 ratio: float = 0.9,
                 alpha: float = 1.0,
                 beta: float = 7.0,
                 alpha_m: float = 0.75,
                 neg_thr: float = 0.8,
                 overlap_calculator: Optional[Dict] = None,
                 stage2: str = 'local') -> None:
        if len(topk) != 2 or min(topk) < 0:
            raise ValueError(f'topk must be two non-negative ints, got {topk}')
        if not ratio > 0:
            raise ValueError(f'ratio must be positive, got {ratio}')
        if not 0 <= alpha_m <= 1:
            raise ValueError(f'alpha_m must be in [0, 1], got {alpha_m}')
        if stage2 not in STAGE2_RULES:
            raise ValueError(
                f'stage2 must be one of {STAGE2_RULES}, got {stage2!r}')
        self.topk = tuple(int(k) for k in topk)
        self.ratio = ratio
        self.alpha = alpha
        self.beta = beta
        self.alpha_m = alpha_m
        self.neg_thr = neg_thr
        self.stage2 = stage2
        overlap_calculator = overlap_calculator or dict(
            type='SparseRBboxOverlaps2D')
        # The 'local' test needs rotated IoU; reuse the stage-2 overlap when
        # it is one.
        self._overlap_is_iou = overlap_calculator['type'] in (
            'SparseRBboxOverlaps2D', 'RBboxOverlaps2D')
        self._iou_calculator = build_iou_calculator(
            dict(type='SparseRBboxOverlaps2D'))
        self.overlap_calculator = build_iou_calculator(overlap_calculator)

    def assign(self,
               priors: torch.Tensor,
               cls_scores: Optional[torch.Tensor],
               gt_bboxes: torch.Tensor,
               gt_labels: Optional[torch.Tensor] = None,
               gt_bboxes_ignore: Optional[torch.Tensor] = None
               ) -> AssignResult:
        """Assign GTs to priors.

        Args:
            priors: (N, 5) prior boxes ``(x, y, w, h, theta)``; not modified.
            cls_scores: (N, C) classification logits of the priors, or None
                (geometry only: needs ``alpha=0`` and ``alpha_m=1``).
            gt_bboxes: (M, 5) GT boxes.
            gt_labels: (M,) GT classes in ``[0, C)``; may be None without
                scores.
            gt_bboxes_ignore: not supported (must be None or empty).

        Returns:
            ``AssignResult`` with ``gt_inds`` (N,): 0 negative, -1 ignored,
            ``g + 1`` positive for GT ``g``; ``max_overlaps`` (N,): the stage
            metric of the assigned GT for positives, else the best ``m1``;
            ``labels`` (N,): the GT class for positives, else -1 (None when
            ``gt_labels`` is None).
        """
        if gt_bboxes_ignore is not None and gt_bboxes_ignore.numel() > 0:
            raise ValueError('AliTSMAssigner does not support ignored GTs')
        if priors.dim() != 2 or priors.size(-1) != 5:
            raise ValueError(f'priors must be (N, 5), got {tuple(priors.shape)}')
        if gt_bboxes.dim() != 2 or gt_bboxes.size(-1) != 5:
            raise ValueError(
                f'gt_bboxes must be (M, 5), got {tuple(gt_bboxes.shape)}')
        num_priors, num_gts = priors.size(0), gt_bboxes.size(0)
        if cls_scores is None:
            if self.alpha != 0 or self.alpha_m != 1:
                raise ValueError('AliTSMAssigner without class scores needs '
                                 'alpha=0 and alpha_m=1 (geometry only), '
                                 f'got alpha={self.alpha}, '
                                 f'alpha_m={self.alpha_m}')
        elif cls_scores.size(0) != num_priors:
            raise ValueError(f'{cls_scores.size(0)} score rows for '
                             f'{num_priors} priors')
        elif gt_labels is None:
            raise ValueError('gt_labels are needed with class scores')
        if gt_labels is not None and gt_labels.numel() != num_gts:
            raise ValueError(f'{gt_labels.numel()} labels for {num_gts} GTs')
        gt_inds = priors.new_zeros((num_priors, ), dtype=torch.long)
        labels = None if gt_labels is None else priors.new_full(
            (num_priors, ), -1, dtype=torch.long)
        if num_gts == 0 or num_priors == 0:
            return AssignResult(num_gts, gt_inds,
                                priors.new_zeros((num_priors, )), labels)
        if cls_scores is None:
            scores = priors.new_ones((num_priors, num_gts))
        else:
            if gt_labels.min() < 0 or gt_labels.max() >= cls_scores.size(1):
                raise ValueError(
                    f'GT labels must be in [0, {cls_scores.size(1)})')
            scores = cls_scores.detach().sigmoid()[:, gt_labels].to(
                priors.dtype)
        kld_similarity = gaussian_similarity(priors.detach(),
                                             gt_bboxes.detach(), 'kld')
        metric1 = scores.pow(self.alpha) * kld_similarity.pow(self.beta)
        best_metric1, _ = metric1.max(dim=1)
        max_overlaps = best_metric1.clone()
        gt_inds[best_metric1 >= self.neg_thr] = -1
        positive1 = self._select_topk(metric1, self.topk[0],
                                      metric1.new_ones(num_priors, 1).bool())
        self._take(positive1, metric1, gt_inds, max_overlaps)

        shrunk = torch.cat([
            priors[:, :2], priors[:, 2:4] * self.ratio, priors[:, 4:]
        ], dim=1).detach()
        overlaps = self._overlaps(shrunk, gt_bboxes.detach())
        metric2 = (1 - self.alpha_m) * scores + self.alpha_m * overlaps
        candidates = ~positive1.any(dim=1, keepdim=True)
        if self.stage2 == 'local':
            touching = overlaps if self._overlap_is_iou else \
                self._iou_calculator(shrunk, gt_bboxes.detach())
            candidates = candidates & (touching > 0)
        positive2 = self._select_topk(metric2, self.topk[1], candidates)
        self._take(positive2, metric2, gt_inds, max_overlaps)

        if labels is not None:
            positive = gt_inds > 0
            labels[positive] = gt_labels[gt_inds[positive] - 1]
        return AssignResult(num_gts, gt_inds, max_overlaps, labels)

    def _overlaps(self, priors: torch.Tensor,
                  gt_bboxes: torch.Tensor) -> torch.Tensor:
        """(N, M) stage-2 overlaps of priors (N, 5) with GTs (M, 5)."""
        return self.overlap_calculator(priors, gt_bboxes).to(priors.dtype)

    @staticmethod
    def _select_topk(metric: torch.Tensor, k: int,
                     allowed: torch.Tensor) -> torch.Tensor:
        """(N, M) mask of each GT's top-``k`` allowed priors by ``metric``."""
        selected = torch.zeros_like(metric, dtype=torch.bool)
        k = min(k, metric.size(0))
        if k == 0 or not allowed.any():
            return selected
        masked = metric.masked_fill(~allowed, float('-inf'))
        top = masked.topk(k, dim=0).indices
        selected.scatter_(0, top, True)
        return selected & allowed

    @staticmethod
    def _take(selected: torch.Tensor, metric: torch.Tensor,
              gt_inds: torch.Tensor, max_overlaps: torch.Tensor) -> None:
        """Make the selected priors positives of their best selected GT."""
        chosen = selected.any(dim=1)
        if not chosen.any():
            return
        best_metric, best_gt = metric.masked_fill(
            ~selected, float('-inf')).max(dim=1)
        gt_inds[chosen] = best_gt[chosen] + 1
        max_overlaps[chosen] = best_metric[chosen]

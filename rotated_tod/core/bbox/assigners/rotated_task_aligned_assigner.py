"""Task-aligned assignment (TOOD) on rotated boxes."""
from typing import Dict, Optional

import torch
from mmdet.core.bbox.assigners.assign_result import AssignResult
from mmdet.core.bbox.assigners.base_assigner import BaseAssigner
from mmrotate.core.bbox.builder import ROTATED_BBOX_ASSIGNERS
from mmrotate.core.bbox.iou_calculators.builder import build_iou_calculator

from .rotated_atss_assigner import INF, nearest_prior_fallback, points_in_rotated_boxes


@ROTATED_BBOX_ASSIGNERS.register_module()
class RotatedTaskAlignedAssigner(BaseAssigner):
    """TOOD's task-aligned assignment (C. Feng et al., ICCV 2021) for rotated
    boxes; mmdet's ``TaskAlignedAssigner`` tests inclusion on horizontal
    boxes, so this one is written for rotated GTs.

    With ``s[i, g]`` the predicted (aligned) probability of location ``i``
    for the class of GT ``g`` and ``u[i, g]`` the overlap of its decoded box
    with the GT (rotated IoU, or a Gaussian similarity through
    ``iou_calculator``), the alignment metric is ``t = s^alpha u^beta``.

    1. Each GT takes its ``topk`` locations by ``t``; those with ``t > 0``
       whose point lies inside the rotated GT are positive.
    2. With ``ensure_positive`` a GT still without a positive takes the
       location nearest to its centre (ours, for sub-stride objects; TOOD
       has no such rule).
    3. A location positive for several GTs goes to the one its box overlaps
       most.

    Args:
        topk: positives per GT (13 in TOOD; AFMNet's config 3).
        alpha, beta: exponents of the score and the overlap.
        iou_calculator: ``ROTATED_IOU_CALCULATORS`` config (default
            ``SparseRBboxOverlaps2D``, rotated IoU).
        ensure_positive: see 2.
    """

    def __init__(self,
                 topk: int = 13,
                 alpha: float = 1.0,
                 beta: float = 6.0,
                 iou_calculator: Optional[Dict] = None,
                 ensure_positive: bool = True) -> None:
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        self.topk = int(topk)
        self.alpha = alpha
        self.beta = beta
        self.iou_calculator = build_iou_calculator(
            iou_calculator or dict(type='SparseRBboxOverlaps2D'))
        self.ensure_positive = ensure_positive

    def assign(self,
               pred_scores: torch.Tensor,
               decoded_bboxes: torch.Tensor,
               points: torch.Tensor,
               gt_bboxes: torch.Tensor,
               gt_labels: torch.Tensor,
               gt_bboxes_ignore: Optional[torch.Tensor] = None
               ) -> AssignResult:
        """Assign GTs to locations.

        Args:
            pred_scores: (N, C) class probabilities (already activated).
            decoded_bboxes: (N, 5) predicted boxes.
            points: (N, 2) location centres.
            gt_bboxes: (M, 5) GT boxes.
            gt_labels: (M,) GT classes in ``[0, C)``.
            gt_bboxes_ignore: not supported (None or empty).

        Returns:
            ``AssignResult`` with ``gt_inds`` (N,) (0 negative, ``g + 1``
            positive), ``max_overlaps`` (N,) the overlap ``u`` with the
            assigned GT, ``labels`` (N,) (-1 negative) and the extra
            attribute ``assign_metrics`` (N,): ``t`` with the assigned GT
            (0 for negatives).
        """
        if gt_bboxes_ignore is not None and gt_bboxes_ignore.numel() > 0:
            raise ValueError('RotatedTaskAlignedAssigner does not support '
                             'ignored GTs')
        num_priors, num_gts = decoded_bboxes.size(0), gt_bboxes.size(0)
        if pred_scores.size(0) != num_priors or points.size(0) != num_priors:
            raise ValueError('pred_scores, decoded_bboxes and points need as '
                             'many rows')
        gt_inds = decoded_bboxes.new_zeros((num_priors, ), dtype=torch.long)
        labels = decoded_bboxes.new_full((num_priors, ), -1, dtype=torch.long)
        max_overlaps = decoded_bboxes.new_zeros((num_priors, ))
        metrics = decoded_bboxes.new_zeros((num_priors, ))
        if num_gts == 0 or num_priors == 0:
            result = AssignResult(num_gts, gt_inds, max_overlaps, labels)
            result.assign_metrics = metrics
            return result
        if gt_labels.min() < 0 or gt_labels.max() >= pred_scores.size(1):
            raise ValueError(f'GT labels must be in [0, {pred_scores.size(1)})')
        boxes, gt_bboxes = decoded_bboxes.detach(), gt_bboxes.detach()
        overlaps = self.iou_calculator(boxes, gt_bboxes).to(boxes.dtype)
        scores = pred_scores.detach()[:, gt_labels].to(boxes.dtype)
        alignment = scores.pow(self.alpha) * overlaps.pow(self.beta)
        k = min(self.topk, num_priors)
        candidates = alignment.topk(k, dim=0).indices  # (k, M)
        gt_range = torch.arange(num_gts, device=boxes.device)
        inside = points_in_rotated_boxes(points[candidates].detach(),
                                         gt_bboxes[None])
        chosen = (alignment[candidates, gt_range] > 0) & inside
        is_pos = torch.zeros_like(alignment, dtype=torch.bool)
        is_pos[candidates, gt_range.expand_as(candidates)] = chosen
        if self.ensure_positive:
            is_pos = nearest_prior_fallback(points.detach(), gt_bboxes,
                                            is_pos)
        best, best_gt = overlaps.masked_fill(~is_pos, -INF).max(1)
        positive = is_pos.any(1)
        gt_inds[positive] = best_gt[positive] + 1
        max_overlaps[positive] = best[positive]
        labels[positive] = gt_labels[best_gt[positive]]
        metrics[positive] = alignment[positive, best_gt[positive]]
        result = AssignResult(num_gts, gt_inds, max_overlaps, labels)
        result.assign_metrics = metrics
        return result

"""ATSS for rotated boxes, with a CPU path (mmrotate 0.3.4's ATSS assigners
test inclusion with ``points_in_polygons``, which has no CPU kernel)."""
from typing import Dict, Optional, Sequence

import torch
from mmdet.core.bbox.assigners.assign_result import AssignResult
from mmdet.core.bbox.assigners.base_assigner import BaseAssigner
from mmrotate.core.bbox.builder import ROTATED_BBOX_ASSIGNERS
from mmrotate.core.bbox.iou_calculators.builder import build_iou_calculator

from ..gaussian import whitened_offset

INF = 1e8


def points_in_rotated_boxes(points: torch.Tensor,
                            boxes: torch.Tensor) -> torch.Tensor:
    """Whether points lie inside rotated boxes (broadcast, inclusive).

    Args:
        points: ``(..., 2)`` points.
        boxes: ``(..., 5)`` ``xywha`` boxes, broadcasting with ``points``.

    Returns:
        Bool tensor of the broadcast shape without the last dim: the point's
        offset in the box frame is within the half sides.
    """
    shape = torch.broadcast_shapes(points.shape[:-1], boxes.shape[:-1])
    located = torch.cat([points.expand(shape + (2, )),
                         boxes[..., 2:].expand(shape + (3, ))], -1)
    return (whitened_offset(located, boxes).abs() <= 1).all(-1)


def nearest_prior_fallback(priors: torch.Tensor, gt_bboxes: torch.Tensor,
                           is_pos: torch.Tensor) -> torch.Tensor:
    """(N, M) positives where every GT without one gets the prior whose
    centre is nearest to its centre (our rule for sub-stride objects, whose
    box may contain no prior centre)."""
    lonely = ~is_pos.any(0)
    if not lonely.any():
        return is_pos
    distances = torch.cdist(priors[:, :2].float(),
                            gt_bboxes[lonely, :2].float())
    nearest = distances.argmin(0)
    is_pos = is_pos.clone()
    is_pos[nearest, lonely.nonzero(as_tuple=True)[0]] = True
    return is_pos


@ROTATED_BBOX_ASSIGNERS.register_module()
class RotatedATSSAssigner(BaseAssigner):
    """Adaptive training sample selection (ATSS, S. Zhang et al., CVPR 2020)
    on rotated boxes; the initial assigner of the rotated task-aligned head.

    1. Per level, each GT takes the ``topk`` priors whose centres are
       nearest to its centre: the candidates.
    2. A candidate is positive if its overlap with the GT is at least the
       mean + standard deviation of the GT's candidate overlaps and its
       centre lies inside the rotated GT.
    3. With ``ensure_positive`` a GT still without a positive takes the
       prior nearest to its centre (ours: for sub-stride objects).
    4. A prior positive for several GTs goes to the one it overlaps most.

    Args:
        topk: candidates per level and GT.
        iou_calculator: ``ROTATED_IOU_CALCULATORS`` config: rotated IoU
            (default ``SparseRBboxOverlaps2D``) or a Gaussian similarity
            (``RBboxGaussianOverlaps2D``).
        ensure_positive: see 3.
    """

    def __init__(self,
                 topk: int = 9,
                 iou_calculator: Optional[Dict] = None,
                 ensure_positive: bool = True) -> None:
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        self.topk = int(topk)
        self.iou_calculator = build_iou_calculator(
            iou_calculator or dict(type='SparseRBboxOverlaps2D'))
        self.ensure_positive = ensure_positive

    def assign(self,
               priors: torch.Tensor,
               num_level_priors: Sequence[int],
               gt_bboxes: torch.Tensor,
               gt_labels: torch.Tensor,
               gt_bboxes_ignore: Optional[torch.Tensor] = None
               ) -> AssignResult:
        """Assign GTs to priors.

        Args:
            priors: (N, 5) prior boxes of all levels, level by level.
            num_level_priors: priors per level (sums to N).
            gt_bboxes: (M, 5) GT boxes.
            gt_labels: (M,) GT classes.
            gt_bboxes_ignore: not supported (None or empty).

        Returns:
            ``AssignResult``: ``gt_inds`` (N,) 0 negative, ``g + 1``
            positive for GT ``g``; ``max_overlaps`` (N,) the overlap with the
            assigned GT (0 for negatives); ``labels`` (N,) (-1 negative).
        """
        if gt_bboxes_ignore is not None and gt_bboxes_ignore.numel() > 0:
            raise ValueError('RotatedATSSAssigner does not support ignored '
                             'GTs')
        if sum(num_level_priors) != priors.size(0):
            raise ValueError(f'num_level_priors {list(num_level_priors)} do '
                             f'not sum to {priors.size(0)} priors')
        num_priors, num_gts = priors.size(0), gt_bboxes.size(0)
        gt_inds = priors.new_zeros((num_priors, ), dtype=torch.long)
        labels = priors.new_full((num_priors, ), -1, dtype=torch.long)
        max_overlaps = priors.new_zeros((num_priors, ))
        if num_gts == 0 or num_priors == 0:
            return AssignResult(num_gts, gt_inds, max_overlaps, labels)
        priors, gt_bboxes = priors.detach(), gt_bboxes.detach()
        overlaps = self.iou_calculator(priors, gt_bboxes).to(priors.dtype)
        distances = torch.cdist(priors[:, :2], gt_bboxes[:, :2])
        candidates = []
        start = 0
        for count in num_level_priors:
            k = min(self.topk, count)
            if k > 0:
                candidates.append(distances[start:start + count].topk(
                    k, dim=0, largest=False).indices + start)
            start += count
        candidates = torch.cat(candidates)  # (K, M)
        gt_range = torch.arange(num_gts, device=priors.device)
        candidate_overlaps = overlaps[candidates, gt_range]
        threshold = candidate_overlaps.mean(0) + (
            candidate_overlaps.std(0) if candidates.size(0) > 1 else 0)
        inside = points_in_rotated_boxes(priors[candidates, :2],
                                         gt_bboxes[None])
        chosen = (candidate_overlaps >= threshold) & inside
        is_pos = torch.zeros_like(overlaps, dtype=torch.bool)
        is_pos[candidates, gt_range.expand_as(candidates)] = chosen
        if self.ensure_positive:
            is_pos = nearest_prior_fallback(priors, gt_bboxes, is_pos)
        best, best_gt = overlaps.masked_fill(~is_pos, -INF).max(1)
        positive = is_pos.any(1)
        gt_inds[positive] = best_gt[positive] + 1
        max_overlaps[positive] = best[positive]
        labels[positive] = gt_labels[best_gt[positive]]
        return AssignResult(num_gts, gt_inds, max_overlaps, labels)

"""RFLA's hierarchical assignment (C. Xu et al., "RFLA: Gaussian Receptive
Field based Label Assignment for Tiny Object Detection", ECCV 2022), the RPN
assignment of SWIN-TOD, for rotated GTs.

It is Ali-TSM (:class:`AliTSMAssigner`) without the class-score terms, so it
is that assigner with ``alpha = 0`` (``s^0 = 1``), ``beta = 1`` and
``alpha_m = 1``, and the stage-2 overlap the same KLD similarity:

1. ``sim = 1 / (1 + KL(prior || GT))`` with the GT's full rotated
   covariance; each GT takes its ``topk[0]`` priors by ``sim``; a prior
   whose best ``sim`` is below ``neg_thr`` (0.8) is negative, the others
   ignored;
2. the priors shrunk by ``ratio`` (0.9, new boxes: the priors are never
   modified, so targets are encoded against the priors test decodes
   against); each GT adds its ``topk[1]`` priors by ``sim`` among those not
   positive yet, over all priors (RFLA's rule, ``stage2='global'``;
   ``'local'`` restricts it to the priors whose shrunk box overlaps the
   GT, as Ali-TSM does by default).
"""
from typing import Optional, Sequence

import torch
from mmdet.core.bbox.assigners.assign_result import AssignResult
from mmrotate.core.bbox.builder import ROTATED_BBOX_ASSIGNERS

from .ali_tsm_assigner import AliTSMAssigner


@ROTATED_BBOX_ASSIGNERS.register_module()
class RFLAHierarchicalAssigner(AliTSMAssigner):
    """Hierarchical KLD assignment of class-agnostic priors (module
    docstring), called like mmdet's assigners.

    Args:
        topk: positives per GT in each stage.
        ratio: side scale of the stage-2 priors.
        neg_thr: priors whose best similarity is below it are negatives.
        stage2: ``'global'`` (RFLA) or ``'local'`` stage-2 candidates (see
            :class:`AliTSMAssigner`).
    """

    def __init__(self, topk: Sequence[int] = (3, 1), ratio: float = 0.9,
                 neg_thr: float = 0.8, stage2: str = 'global') -> None:
        super().__init__(
            topk=topk, ratio=ratio, alpha=0.0, beta=1.0, alpha_m=1.0,
            neg_thr=neg_thr,
            overlap_calculator=dict(type='RBboxGaussianOverlaps2D',
                                    metric='kld'),
            stage2=stage2)

    def assign(self,
               priors: torch.Tensor,
               gt_bboxes: torch.Tensor,
               gt_bboxes_ignore: Optional[torch.Tensor] = None,
               gt_labels: Optional[torch.Tensor] = None) -> AssignResult:
        """Assign rotated GTs to priors.

        Args:
            priors: (N, 4) horizontal ``(x1, y1, x2, y2)`` anchors or (N, 5)
                ``xywha`` priors; not modified.
            gt_bboxes: (M, 5) ``xywha`` GT boxes.
            gt_bboxes_ignore: not supported (None or empty).
            gt_labels: (M,) labels copied to ``AssignResult.labels``, or
                None (an RPN).

        Returns:
            ``AssignResult`` as :meth:`AliTSMAssigner.assign` (``gt_inds`` 0
            negative, -1 ignored, ``g + 1`` positive for GT ``g``).
        """
        if priors.dim() == 2 and priors.size(-1) == 4:
            priors = torch.cat([(priors[:, :2] + priors[:, 2:]) / 2,
                                priors[:, 2:] - priors[:, :2],
                                priors.new_zeros(priors.size(0), 1)], dim=1)
        return super().assign(priors, None, gt_bboxes, gt_labels,
                              gt_bboxes_ignore)

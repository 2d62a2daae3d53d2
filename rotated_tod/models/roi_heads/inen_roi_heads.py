"""Oriented R-CNN's and RoI Transformer's RoI heads with SWIN-TOD's INEN in
every stage (the graph branch lives in :class:`INENBBoxHead`).

In training mode a stage's box forward returns the detector's own logits
(RoI Transformer refines its RoIs with them) and the graph branch enters
through its loss, ``loss_graph_cls``; in eval mode the stage's logits are
replaced by the fused ``0.9 logits + 0.1 log_softmax(graph logits)``, so
mmrotate's test code (per-stage class refinement, the stage average of RoI
Transformer, NMS) sees the fused scores.
"""
from typing import Dict, List

import torch
from mmrotate.core import rbbox2roi
from mmrotate.models.builder import ROTATED_HEADS
from mmrotate.models.roi_heads import OrientedStandardRoIHead, RoITransRoIHead

from .inen_bbox_head import INENBBoxHead


def _check_head(head) -> None:
    if not isinstance(head, INENBBoxHead):
        raise TypeError(f'INEN RoI heads need INENBBoxHead box heads, got '
                        f'{type(head).__name__}')


@ROTATED_HEADS.register_module()
class INENOrientedRoIHead(OrientedStandardRoIHead):
    """``OrientedStandardRoIHead`` (Oriented R-CNN, one stage) with INEN."""

    def init_bbox_head(self, bbox_roi_extractor: Dict,
                       bbox_head: Dict) -> None:
        super().init_bbox_head(bbox_roi_extractor, bbox_head)
        _check_head(self.bbox_head)

    def _bbox_forward(self, x: List[torch.Tensor],
                      rois: torch.Tensor) -> Dict[str, torch.Tensor]:
        results = super()._bbox_forward(x, rois)
        if not self.training:
            results['cls_score'] = self.bbox_head.test_logits(
                results['bbox_feats'], results['cls_score'], rois)
        return results

    def _bbox_forward_train(self, x: List[torch.Tensor], sampling_results,
                            gt_bboxes, gt_labels, img_metas) -> Dict:
        rois = rbbox2roi([res.bboxes for res in sampling_results])
        results = self._bbox_forward(x, rois)
        labels, label_weights, *targets = self.bbox_head.get_targets(
            sampling_results, gt_bboxes, gt_labels, self.train_cfg)
        losses = self.bbox_head.loss(results['cls_score'],
                                     results['bbox_pred'], rois, labels,
                                     label_weights, *targets)
        losses.update(
            self.bbox_head.graph_loss(results['bbox_feats'],
                                      results['cls_score'], rois, labels,
                                      label_weights))
        results.update(loss_bbox=losses)
        return results


@ROTATED_HEADS.register_module()
class INENRoITransRoIHead(RoITransRoIHead):
    """``RoITransRoIHead`` (RoI Transformer, two stages) with INEN in each
    stage (each stage its own graph layers)."""

    def init_bbox_head(self, bbox_roi_extractor, bbox_head) -> None:
        super().init_bbox_head(bbox_roi_extractor, bbox_head)
        for head in self.bbox_head:
            _check_head(head)

    def _bbox_forward(self, stage: int, x: List[torch.Tensor],
                      rois: torch.Tensor) -> Dict[str, torch.Tensor]:
        results = super()._bbox_forward(stage, x, rois)
        if not self.training:
            results['cls_score'] = self.bbox_head[stage].test_logits(
                results['bbox_feats'], results['cls_score'], rois)
        return results

    def _bbox_forward_train(self, stage: int, x: List[torch.Tensor],
                            sampling_results, gt_bboxes, gt_labels,
                            rcnn_train_cfg) -> Dict:
        results = super()._bbox_forward_train(stage, x, sampling_results,
                                              gt_bboxes, gt_labels,
                                              rcnn_train_cfg)
        labels, label_weights = results['bbox_targets'][:2]
        results['loss_bbox'].update(self.bbox_head[stage].graph_loss(
            results['bbox_feats'], results['cls_score'], results['rois'],
            labels, label_weights))
        return results

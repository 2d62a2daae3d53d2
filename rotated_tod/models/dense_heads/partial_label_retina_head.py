"""Rotated RetinaNet head for images labelled for only some of the classes.

A dataset may label only some classes: a DOTA harbour crop labelled for
ships only still shows parked cars, and HRSC2016 labels nothing but ships.
Trained as they are, the unlabelled objects of the other classes become
background, and the detector learns to suppress them. This head reads
``labelled_classes`` (class indices) from an image's meta, set by
:class:`rotated_tod.datasets.pipelines.LabelledClasses`. On such an image the
classification loss keeps only the labelled classes' logits:

    L_cls = sum_{a, c} w_a m_c FL(p_{a,c}, y_{a,c}) / N_pos,

with ``w_a`` RetinaNet's anchor weight and ``m_c = 1`` for a labelled class,
0 otherwise. Box regression is unchanged, since only labelled objects have
targets. An image without the key has ``m = 1``, so the head then equals
:class:`mmrotate.models.RotatedRetinaHead` exactly.

Our design (no paper). It is the per-class masking commonly used for
partially annotated detection data.
"""
from typing import List, Optional, Sequence

import torch
from mmrotate.models.builder import ROTATED_HEADS
from mmrotate.models.dense_heads import RotatedRetinaHead


def labelled_class_masks(img_metas: Sequence[dict], num_classes: int,
                         device: torch.device) -> Optional[torch.Tensor]:
    """(N, num_classes) float mask of the classes each image labels (all
    ones for an image without ``labelled_classes``), or None when no image
    restricts its classes."""
    if not any('labelled_classes' in meta for meta in img_metas):
        return None
    masks = torch.ones(len(img_metas), num_classes, device=device)
    for k, meta in enumerate(img_metas):
        if 'labelled_classes' in meta:
            masks[k] = 0
            masks[k, list(meta['labelled_classes'])] = 1
    return masks


@ROTATED_HEADS.register_module()
class PartialLabelRotatedRetinaHead(RotatedRetinaHead):
    """:class:`RotatedRetinaHead` whose classification loss ignores, on each
    image, the classes that image does not label (module docstring).

    Shapes: the per-image masks are (N, C); each level's anchor weights
    (N, A_l) become (N, A_l, C), which the focal loss reads per class.
    """

    def loss(self, cls_scores: List[torch.Tensor],
             bbox_preds: List[torch.Tensor], gt_bboxes: List[torch.Tensor],
             gt_labels: List[torch.Tensor], img_metas: List[dict],
             gt_bboxes_ignore: Optional[List[torch.Tensor]] = None) -> dict:
        # loss_single receives no image metas: the masks wait on the head
        # for the duration of this call
        self._class_masks = labelled_class_masks(
            img_metas, self.cls_out_channels, cls_scores[0].device)
        try:
            return super().loss(cls_scores, bbox_preds, gt_bboxes, gt_labels,
                                img_metas, gt_bboxes_ignore)
        finally:
            self._class_masks = None

    def loss_single(self, cls_score, bbox_pred, anchors, labels,
                    label_weights, bbox_targets, bbox_weights,
                    num_total_samples):
        masks = getattr(self, '_class_masks', None)
        if masks is not None:
            # mmdet's focal loss takes per-class weights flattened (as FSAF
            # passes them), so the parent's reshape(-1) keeps them aligned
            label_weights = label_weights[..., None] * masks[:, None, :]
        return super().loss_single(cls_score, bbox_pred, anchors, labels,
                                   label_weights, bbox_targets, bbox_weights,
                                   num_total_samples)

"""Rotated RetinaNet head trained with cross-grid label assignment (CLA).

:class:`CrossGridTargetsMixin` gives any ``RotatedAnchorHead`` subclass the
targets of a :class:`~rotated_tod.core.bbox.assigners.CrossGridAssigner`,
which needs to know where each prior sits on the feature grids (a
:class:`~rotated_tod.core.bbox.assigners.PriorGrid`) on top of mmdet's
``assign(bboxes, gt_bboxes, gt_bboxes_ignore, gt_labels)``. With any other
assigner the targets are mmrotate's.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from mmcv.runner import force_fp32
from mmdet.core import images_to_levels, multi_apply, unmap
from mmrotate.core import obb2hbb, rotated_anchor_inside_flags
from mmrotate.models.builder import ROTATED_HEADS
from mmrotate.models.dense_heads import RotatedRetinaHead

from rotated_tod.core.bbox.assigners import CrossGridAssigner, PriorGrid


class CrossGridTargetsMixin:
    """Targets and losses of an anchor head whose assigner may need the
    prior grid. Mix in before the ``RotatedAnchorHead`` subclass."""

    _prior_grid: Optional[PriorGrid] = None

    def prior_grid(self, featmap_sizes: Sequence[Tuple[int, int]]
                   ) -> PriorGrid:
        """The grid of this head's anchor generator for these map sizes."""
        return PriorGrid.from_anchor_generator(self.anchor_generator,
                                               featmap_sizes)

    def get_targets(self, *args, prior_grid: Optional[PriorGrid] = None,
                    **kwargs):
        """mmrotate's ``get_targets``, whose per-image assignment sees
        ``prior_grid`` (the layout of the anchors of ``anchor_list``)."""
        self._prior_grid = prior_grid
        try:
            return super().get_targets(*args, **kwargs)
        finally:
            self._prior_grid = None

    def _get_targets_single(self,
                            flat_anchors: torch.Tensor,
                            valid_flags: torch.Tensor,
                            gt_bboxes: torch.Tensor,
                            gt_bboxes_ignore: Optional[torch.Tensor],
                            gt_labels: Optional[torch.Tensor],
                            img_meta: dict,
                            label_channels: int = 1,
                            unmap_outputs: bool = True) -> tuple:
        """Targets of one image: (N, 5) anchors -> labels (N,), label
        weights (N,), box targets (N, 5), box weights (N, 5), positive and
        negative indices, sampling result (as mmrotate's)."""
        inside_flags = rotated_anchor_inside_flags(
            flat_anchors, valid_flags, img_meta['img_shape'][:2],
            self.train_cfg.allowed_border)
        if not inside_flags.any():
            return (None, ) * 7
        anchors = flat_anchors[inside_flags, :]
        gt_bboxes_assign = gt_bboxes
        if self.assign_by_circumhbbox is not None:
            gt_bboxes_assign = obb2hbb(gt_bboxes, self.assign_by_circumhbbox)
        assign_labels = None if self.sampling else gt_labels
        if isinstance(self.assigner, CrossGridAssigner):
            if self._prior_grid is None:
                raise ValueError(
                    f'{type(self).__name__}: CrossGridAssigner needs the '
                    'prior grid; call get_targets(..., prior_grid=...)')
            assign_result = self.assigner.assign(
                anchors, gt_bboxes_assign, gt_bboxes_ignore, assign_labels,
                prior_grid=self._prior_grid, inside_flags=inside_flags)
        else:
            assign_result = self.assigner.assign(anchors, gt_bboxes_assign,
                                                 gt_bboxes_ignore,
                                                 assign_labels)
        sampling_result = self.sampler.sample(assign_result, anchors,
                                              gt_bboxes)

        num_valid = anchors.size(0)
        bbox_targets = torch.zeros_like(anchors)
        bbox_weights = torch.zeros_like(anchors)
        labels = anchors.new_full((num_valid, ), self.num_classes,
                                  dtype=torch.long)
        label_weights = anchors.new_zeros(num_valid, dtype=torch.float)
        pos_inds = sampling_result.pos_inds
        neg_inds = sampling_result.neg_inds
        if len(pos_inds) > 0:
            if self.reg_decoded_bbox:
                bbox_targets[pos_inds] = sampling_result.pos_gt_bboxes
            else:
                bbox_targets[pos_inds] = self.bbox_coder.encode(
                    sampling_result.pos_bboxes, sampling_result.pos_gt_bboxes)
            bbox_weights[pos_inds] = 1.0
            if gt_labels is None:
                labels[pos_inds] = 0
            else:
                labels[pos_inds] = gt_labels[
                    sampling_result.pos_assigned_gt_inds]
            label_weights[pos_inds] = (1.0 if self.train_cfg.pos_weight <= 0
                                       else self.train_cfg.pos_weight)
        if len(neg_inds) > 0:
            label_weights[neg_inds] = 1.0

        if unmap_outputs:
            num_total = flat_anchors.size(0)
            labels = unmap(labels, num_total, inside_flags,
                           fill=self.num_classes)
            label_weights = unmap(label_weights, num_total, inside_flags)
            bbox_targets = unmap(bbox_targets, num_total, inside_flags)
            bbox_weights = unmap(bbox_weights, num_total, inside_flags)
        return (labels, label_weights, bbox_targets, bbox_weights, pos_inds,
                neg_inds, sampling_result)

    def anchor_losses(self,
                      cls_scores: List[torch.Tensor],
                      bbox_preds: List[torch.Tensor],
                      anchor_list: List[List[torch.Tensor]],
                      valid_flag_list: List[List[torch.Tensor]],
                      gt_bboxes: List[torch.Tensor],
                      gt_labels: List[torch.Tensor],
                      img_metas: List[dict],
                      gt_bboxes_ignore: Optional[List[torch.Tensor]],
                      prior_grid: PriorGrid) -> Tuple[list, list]:
        """Classification and box losses per level of the predictions
        ``cls_scores`` (B, A*C, H_l, W_l) / ``bbox_preds`` (B, A*5, H_l, W_l)
        against ``anchor_list`` (per image, per level (H_l*W_l*A, 5) anchors,
        or boxes used as anchors, laid out as ``prior_grid``)."""
        label_channels = self.cls_out_channels if self.use_sigmoid_cls else 1
        targets = self.get_targets(
            anchor_list,
            valid_flag_list,
            gt_bboxes,
            img_metas,
            gt_bboxes_ignore_list=gt_bboxes_ignore,
            gt_labels_list=gt_labels,
            label_channels=label_channels,
            prior_grid=prior_grid)
        if targets is None:
            raise ValueError(f'{type(self).__name__}: no anchor lies inside '
                             'the images (check allowed_border)')
        (labels_list, label_weights_list, bbox_targets_list, bbox_weights_list,
         num_total_pos, num_total_neg) = targets
        num_total_samples = (
            num_total_pos + num_total_neg if self.sampling else num_total_pos)
        num_level_anchors = [anchors.size(0) for anchors in anchor_list[0]]
        all_anchor_list = images_to_levels(
            [torch.cat(anchors) for anchors in anchor_list], num_level_anchors)
        return multi_apply(
            self.loss_single,
            cls_scores,
            bbox_preds,
            all_anchor_list,
            labels_list,
            label_weights_list,
            bbox_targets_list,
            bbox_weights_list,
            num_total_samples=num_total_samples)


@ROTATED_HEADS.register_module()
class CrossGridRetinaHead(CrossGridTargetsMixin, RotatedRetinaHead):
    """``RotatedRetinaHead`` whose targets come from a
    ``CrossGridAssigner`` (the "CLA only" ablation); layers, outputs and
    inference are the stock head's."""

    @force_fp32(apply_to=('cls_scores', 'bbox_preds'))
    def loss(self,
             cls_scores: List[torch.Tensor],
             bbox_preds: List[torch.Tensor],
             gt_bboxes: List[torch.Tensor],
             gt_labels: List[torch.Tensor],
             img_metas: List[dict],
             gt_bboxes_ignore: Optional[List[torch.Tensor]] = None) -> dict:
        """Focal and box losses, per level, against the generator anchors."""
        featmap_sizes = [score.shape[-2:] for score in cls_scores]
        anchor_list, valid_flag_list = self.get_anchors(
            featmap_sizes, img_metas, device=cls_scores[0].device)
        losses_cls, losses_bbox = self.anchor_losses(
            cls_scores, bbox_preds, anchor_list, valid_flag_list, gt_bboxes,
            gt_labels, img_metas, gt_bboxes_ignore,
            self.prior_grid(featmap_sizes))
        return dict(loss_cls=losses_cls, loss_bbox=losses_bbox)

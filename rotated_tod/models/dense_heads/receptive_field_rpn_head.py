"""RPNs whose assigner sees the rotated GT boxes: the RPN of SWIN-TOD
("SWIN-TOD: Smooth Wasserstein Distance and Instance-level Neighboring
Enhancement for Remote Sensing Tiny Object Detection", IEEE TGRS 2024),
which is RFLA's (C. Xu et al., ECCV 2022), made oriented.

mmrotate's RPNs hand their assigner the GTs' horizontal hulls. These hand it
the rotated GT boxes ``(M, 5)`` with the anchors ``(N, 4)``, so
:class:`RFLAHierarchicalAssigner` can rank the
:class:`ReceptiveFieldAnchorGenerator` anchors (``0.5 x TRF`` per level,
ratios 0.5/1/2) by the KLD to each GT's full rotated covariance. The
regression targets are what mmrotate's heads regress, encoded against the
unmodified anchors (the ones test decodes against):

- :class:`ReceptiveFieldOrientedRPNHead` (Oriented R-CNN): the rotated GTs,
  ``MidpointOffsetCoder``, 6-d deltas;
- :class:`ReceptiveFieldRPNHead` (RoI Transformer): the GTs' horizontal
  hulls, ``DeltaXYWHBBoxCoder``, 4-d deltas.
"""
import torch
from mmdet.core import anchor_inside_flags, unmap
from mmrotate.core import obb2xyxy
from mmrotate.models.builder import ROTATED_HEADS
from mmrotate.models.dense_heads import OrientedRPNHead, RotatedRPNHead


class RotatedGTTargetsMixin:
    """``_get_targets_single`` with the assigner called on rotated GTs.

    ``rotated_targets``: regress the rotated GTs (else their hulls).
    """

    rotated_targets = False

    def _check_encoded(self) -> None:
        if self.reg_decoded_bbox:
            raise ValueError(f'{type(self).__name__} regresses encoded '
                             'deltas (reg_decoded_bbox=False)')

    def _get_targets_single(self,
                            flat_anchors: torch.Tensor,
                            valid_flags: torch.Tensor,
                            gt_bboxes: torch.Tensor,
                            gt_bboxes_ignore,
                            gt_labels,
                            img_meta: dict,
                            label_channels: int = 1,
                            unmap_outputs: bool = True) -> tuple:
        """Targets of one image's anchors (N, 4) for rotated GTs (M, 5);
        returns what mmrotate's RPN heads return."""
        inside = anchor_inside_flags(flat_anchors, valid_flags,
                                     img_meta['img_shape'][:2],
                                     self.train_cfg.allowed_border)
        if not inside.any():
            return (None, ) * 7
        anchors = flat_anchors[inside]
        assign_result = self.assigner.assign(
            anchors, gt_bboxes, gt_bboxes_ignore,
            None if self.sampling else gt_labels)
        sampling_result = self.sampler.sample(
            assign_result, anchors, obb2xyxy(gt_bboxes, self.version))
        if self.rotated_targets:
            sampling_result.pos_gt_bboxes = (
                gt_bboxes[sampling_result.pos_assigned_gt_inds]
                if gt_bboxes.numel() else gt_bboxes.new_zeros((0, 5)))

        num_anchors = anchors.size(0)
        reg_dim = 6 if self.rotated_targets else 4
        bbox_targets = anchors.new_zeros((num_anchors, reg_dim))
        bbox_weights = anchors.new_zeros((num_anchors, reg_dim))
        labels = anchors.new_full((num_anchors, ), self.num_classes,
                                  dtype=torch.long)
        label_weights = anchors.new_zeros(num_anchors, dtype=torch.float)
        pos_inds = sampling_result.pos_inds
        neg_inds = sampling_result.neg_inds
        if len(pos_inds) > 0:
            bbox_targets[pos_inds] = self.bbox_coder.encode(
                sampling_result.pos_bboxes, sampling_result.pos_gt_bboxes)
            bbox_weights[pos_inds] = 1.0
            # Foreground is class 0 of an RPN.
            labels[pos_inds] = 0 if gt_labels is None else gt_labels[
                sampling_result.pos_assigned_gt_inds]
            pos_weight = self.train_cfg.pos_weight
            label_weights[pos_inds] = 1.0 if pos_weight <= 0 else pos_weight
        if len(neg_inds) > 0:
            label_weights[neg_inds] = 1.0
        if unmap_outputs:
            total = flat_anchors.size(0)
            labels = unmap(labels, total, inside, fill=self.num_classes)
            label_weights = unmap(label_weights, total, inside)
            bbox_targets = unmap(bbox_targets, total, inside)
            bbox_weights = unmap(bbox_weights, total, inside)
        return (labels, label_weights, bbox_targets, bbox_weights, pos_inds,
                neg_inds, sampling_result)


@ROTATED_HEADS.register_module()
class ReceptiveFieldOrientedRPNHead(RotatedGTTargetsMixin, OrientedRPNHead):
    """``OrientedRPNHead`` whose assigner gets rotated GTs (module
    docstring); same arguments, encoded targets only."""

    rotated_targets = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._check_encoded()


@ROTATED_HEADS.register_module()
class ReceptiveFieldRPNHead(RotatedGTTargetsMixin, RotatedRPNHead):
    """``RotatedRPNHead`` (horizontal proposals) whose assigner gets rotated
    GTs (module docstring); same arguments, encoded targets only."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._check_encoded()

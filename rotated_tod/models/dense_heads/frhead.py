"""FRHead of Refined-Det (X. Rao, L. Zhou, "Cross-Grid Label Assignment for
Arbitrary-Oriented Object Detection in Aerial Images", IEEE GRSL 21, 2024): a
Rotated RetinaNet head that refines its own predictions with a second, aligned
pass.

Per level, input ``x`` (B, C, H, W), ``A`` anchors per location, ``K``
classes:

- coarse: ``(c0, r0) = towers(x)``, (B, A*K, H, W) logits, (B, A*5, H, W)
  deltas against the generator anchors;
- refine branch: ``f = conv3x1(conv1x3(x))``, ``r_cls = conv1x1(f)``
  (B, A*K, H, W), ``r_reg = conv1x1(f)`` (B, A*5, H, W);
- classification attention: ``a = sigmoid(conv1x1(c0))`` (B, 1, H, W),
  ``x' = x + x * a``;
- alignment: ``rois = decode(anchors, r0)`` (detached), ``x'' =
  ReLU(DeformConv3x3(x'))`` with S2ANet's AlignConv offsets, which place the
  3x3 sampling grid on each location's roi (with ``A > 1`` anchors, on the
  roi of the anchor with the highest coarse score); its weights start as
  AlignConv's, normal with std 0.01 (S2ANet, J. Han et al., TGRS 2021);
- second pass of the same towers: ``(c, r) = towers(x'')``;
- outputs: ``cls = c + c * r_cls``, ``reg = r + r * r_reg``, deltas against
  the rois.

Losses: coarse outputs against the generator anchors plus final outputs
against the rois used as anchors, both assigned by the configured assigner
(CLA in Refined-Det), weights 1. Test: the final deltas decoded against the
rois.
"""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmcv.runner import ModuleList, force_fp32
from mmrotate.models.builder import ROTATED_HEADS
from mmrotate.models.dense_heads import RotatedRetinaHead
from mmrotate.models.detectors.utils import AlignConv

from ..utils import sampled_deform_conv_like
from .cross_grid_retina_head import CrossGridTargetsMixin


@ROTATED_HEADS.register_module()
class FRHead(CrossGridTargetsMixin, RotatedRetinaHead):
    """Feature-refinement head (see the module docstring).

    Args:
        align_kernel_size: side of the aligned deformable convolution.
        Others: as :class:`RotatedRetinaHead`.

    ``forward`` returns five per-level lists: coarse logits, coarse deltas,
    final logits, final deltas and rois (B, H*W*A, 5); ``loss`` and
    ``get_bboxes`` take them in that order.
    """

    def __init__(self, num_classes: int, in_channels: int,
                 align_kernel_size: int = 3, **kwargs):
        self.align_kernel_size = align_kernel_size
        super().__init__(num_classes, in_channels, **kwargs)

    def _init_layers(self):
        super()._init_layers()
        num_cls = self.num_anchors * self.cls_out_channels
        self.refine_conv1x3 = nn.Conv2d(
            self.in_channels, self.feat_channels, (1, 3), padding=(0, 1))
        self.refine_conv3x1 = nn.Conv2d(
            self.feat_channels, self.feat_channels, (3, 1), padding=(1, 0))
        self.refine_cls = nn.Conv2d(self.feat_channels, num_cls, 1)
        self.refine_reg = nn.Conv2d(self.feat_channels, self.num_anchors * 5,
                                    1)
        self.cls_attention = nn.Conv2d(num_cls, 1, 1)
        # mmcv's ModuleList, unlike torch's, runs each AlignConv's own
        # init_weights (normal, std 0.01) from the head's init_weights; the
        # head's init_cfg (layer Conv2d) does not match DeformConv2d.
        self.align_convs = ModuleList([
            AlignConv(self.in_channels, self.in_channels,
                      kernel_size=self.align_kernel_size, stride=stride[0])
            for stride in self.anchor_generator.strides
        ])
        # Same weights and result; mmcv's CPU deformable kernel took 40% of
        # a training step.
        for align_conv in self.align_convs:
            align_conv.deform_conv = sampled_deform_conv_like(
                align_conv.deform_conv)

    def forward(self, feats: List[torch.Tensor]) -> Tuple[list, ...]:
        """Per-level coarse logits, coarse deltas, final logits, final deltas
        and rois, for features ``feats`` (B, C, H_l, W_l)."""
        featmap_sizes = [feat.shape[-2:] for feat in feats]
        mlvl_anchors = self.anchor_generator.grid_priors(
            featmap_sizes, dtype=feats[0].dtype, device=feats[0].device)
        outs = [
            self.forward_single(feat, anchors, align_conv) for feat, anchors,
            align_conv in zip(feats, mlvl_anchors, self.align_convs)
        ]
        return tuple(list(level_outs) for level_outs in zip(*outs))

    def forward_single(self, x: torch.Tensor, anchors: torch.Tensor,
                       align_conv: nn.Module) -> Tuple[torch.Tensor, ...]:
        """One level: ``x`` (B, C, H, W), ``anchors`` (H*W*A, 5)."""
        num_imgs, _, height, width = x.shape
        coarse_cls, coarse_reg = super().forward_single(x)

        refine_feat = self.refine_conv3x1(self.refine_conv1x3(x))
        refine_cls = self.refine_cls(refine_feat)
        refine_reg = self.refine_reg(refine_feat)

        attention = self.cls_attention(coarse_cls).sigmoid()
        attended = x + x * attention

        # The rois steer sampling and serve as anchors of the final outputs;
        # like S2ANet, no gradient flows into the coarse deltas through them.
        deltas = coarse_reg.detach().permute(0, 2, 3, 1).reshape(-1, 5)
        rois = self.bbox_coder.decode(
            anchors.repeat(num_imgs, 1), deltas).reshape(num_imgs, -1, 5)
        aligned = align_conv(attended, self._alignment_boxes(
            rois, coarse_cls.detach()).reshape(-1, 5))

        cls, reg = super().forward_single(aligned)
        return (coarse_cls, coarse_reg, cls + cls * refine_cls,
                reg + reg * refine_reg, rois)

    def _alignment_boxes(self, rois: torch.Tensor,
                         coarse_cls: torch.Tensor) -> torch.Tensor:
        """(B, H*W*A, 5) rois -> (B, H*W, 5): one box per location, the roi
        of its anchor with the highest coarse class logit."""
        if self.num_anchors == 1:
            return rois
        num_imgs = rois.size(0)
        scores = coarse_cls.permute(0, 2, 3, 1).reshape(
            num_imgs, -1, self.num_anchors, self.cls_out_channels)
        best = scores.max(-1)[0].argmax(-1)  # (B, H*W)
        rois = rois.reshape(num_imgs, -1, self.num_anchors, 5)
        return rois.gather(2, best[..., None, None].expand(-1, -1, 1,
                                                           5)).squeeze(2)

    @force_fp32(apply_to=('coarse_cls_scores', 'coarse_bbox_preds',
                          'cls_scores', 'bbox_preds'))
    def loss(self,
             coarse_cls_scores: List[torch.Tensor],
             coarse_bbox_preds: List[torch.Tensor],
             cls_scores: List[torch.Tensor],
             bbox_preds: List[torch.Tensor],
             rois: List[torch.Tensor],
             gt_bboxes: List[torch.Tensor],
             gt_labels: List[torch.Tensor],
             img_metas: List[dict],
             gt_bboxes_ignore: Optional[List[torch.Tensor]] = None) -> dict:
        """Coarse losses (``loss_coarse_cls``, ``loss_coarse_bbox``) against
        the generator anchors and final ones (``loss_cls``, ``loss_bbox``)
        against the rois, per level."""
        featmap_sizes = [score.shape[-2:] for score in cls_scores]
        anchor_list, valid_flag_list = self.get_anchors(
            featmap_sizes, img_metas, device=cls_scores[0].device)
        grid = self.prior_grid(featmap_sizes)
        coarse_cls, coarse_bbox = self.anchor_losses(
            coarse_cls_scores, coarse_bbox_preds, anchor_list,
            valid_flag_list, gt_bboxes, gt_labels, img_metas,
            gt_bboxes_ignore, grid)
        roi_list = [[level_rois[img_id] for level_rois in rois]
                    for img_id in range(len(img_metas))]
        final_cls, final_bbox = self.anchor_losses(
            cls_scores, bbox_preds, roi_list, valid_flag_list, gt_bboxes,
            gt_labels, img_metas, gt_bboxes_ignore, grid)
        return dict(
            loss_coarse_cls=coarse_cls,
            loss_coarse_bbox=coarse_bbox,
            loss_cls=final_cls,
            loss_bbox=final_bbox)

    @force_fp32(apply_to=('cls_scores', 'bbox_preds'))
    def get_bboxes(self,
                   coarse_cls_scores: List[torch.Tensor],
                   coarse_bbox_preds: List[torch.Tensor],
                   cls_scores: List[torch.Tensor],
                   bbox_preds: List[torch.Tensor],
                   rois: List[torch.Tensor],
                   img_metas: List[dict],
                   cfg=None,
                   rescale: bool = False,
                   with_nms: bool = True) -> list:
        """Per image: with NMS, (n, 6) ``xywha, score`` boxes and (n,)
        labels; without, (m, 5) boxes and (m, K+1) scores (last column
        background). The final deltas are decoded against the rois."""
        num_levels = len(cls_scores)
        results = []
        for img_id, img_meta in enumerate(img_metas):
            results.append(self._get_bboxes_single(
                [cls_scores[lvl][img_id].detach() for lvl in range(num_levels)],
                [bbox_preds[lvl][img_id].detach() for lvl in range(num_levels)],
                [rois[lvl][img_id] for lvl in range(num_levels)],
                img_meta['img_shape'], img_meta['scale_factor'], cfg, rescale,
                with_nms))
        return results

"""SAGH, the Spatial-Aware Guidance Head of FSANet (J. Wu, Z. Pan, B. Lei,
Y. Hu, "FSANet: Feature-and-Spatial-Aligned Network for Tiny Object Detection
in Remote Sensing Images", IEEE TGRS 2022), made oriented on mmrotate's
rotated FCOS conventions (distances to the sides in the box frame, an angle
branch with its own scale, ``DistanceAnglePointCoder``).

Per level ``l`` (stride ``s``, learnable scale ``s_l``, shared angle scale
``s_a``) and location ``p``, from a level map (B, C, H, W):

- towers: ``stacked_convs`` x (conv3x3 + GN + ReLU), cls and reg;
- coarse box: ``t0 = conv3x3(reg)`` (B, 4, H, W), ``d0 = exp(s_l t0)``
  (pixels), ``a0 = s_a conv3x3(reg)`` (B, 1, H, W);
- offsets (B, 2*9*G, H, W), G = 4 deformable groups:

  - ``'learned'`` (the paper's): ``conv1x1([t0, a0_raw])`` on the raw coarse
    outputs (no bias, init N(0, 0.01)), gradients flowing into the coarse
    branch unless ``detach_offset_input``;
  - ``'geometric'`` (our design, not the paper's): the 3x3 grid placed on
    the decoded coarse rotated box as S2ANet's AlignConv does (J. Han et
    al., TGRS 2021), the same for every group, without gradient;

- two deformable 3x3 convolutions (G groups) with those offsets on the cls
  and reg tower outputs, each + GN + ReLU, giving ``cls'`` and ``reg'``;
- predictors: ``cls = conv3x3(cls')`` (B, K, H, W), centerness
  ``conv3x3(cls')`` (B, 1, H, W) on the cls branch, refined distances
  ``d1 = d0 + s_l conv3x3(reg')`` (a linear residual in pixels, no exp, no
  clamp) and angle ``a1 = a0 + s_a conv3x3(reg')``.

Assignment, one rule at two kinds of centres ``c`` (FCOS's, rotated): ``c``
is positive for a GT when it lies strictly inside the rotated GT and the
largest distance from ``c`` to the GT's sides, in the GT frame, is in the
level's range; a location matching several GTs takes the smallest.

- coarse: ``c`` = the grid point;
- refined (self-assignment): ``c`` = the centre of the location's own
  refined box ``(d1, a1)`` (detached), as the paper's code uses the refined
  prediction; the targets are still measured from the grid point, i.e. the
  target box is the GT box itself.

Gaussian centerness of the grid point in its GT, ``exp(-delta^T S^-1
delta)`` with ``delta = p - mu``, ``S = R diag(w^2/4, h^2/4) R^T``
(``exp(-4 (dx/w)^2 - 4 (dy/h)^2)`` in the GT frame), is the centerness target
and the weight of the box losses, each averaged by its weights' sum.

Losses: focal on the refined labels only (averaged by the refined positive
count), refined box loss (weight 1.0 in the paper) on refined positives,
coarse box loss (0.2) on coarse positives, both on decoded boxes against the
GT boxes (``-ln IoU`` in the paper: mmrotate's ``RotatedIoULoss``; any
rotated box loss, e.g. a Gaussian one, fits), centerness BCE (1.0) on the
refined positives.

Test: ``cls`` and centerness with the refined box, through
``RotatedFCOSHead``'s post-processing (``score_thr`` on the class
probability before it is multiplied by the centerness).
"""
from types import SimpleNamespace
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmcv.runner import force_fp32
from mmdet.core import multi_apply, reduce_mean
from mmrotate.models.builder import ROTATED_HEADS, build_loss
from mmrotate.models.dense_heads.rotated_fcos_head import RotatedFCOSHead
from mmrotate.models.detectors.utils import AlignConv

from rotated_tod.core.bbox.gaussian import whitened_offset

from ..utils import SampledDeformConv2d

INF = 1e8
OFFSET_MODES = ('learned', 'geometric')


def gaussian_centerness(points: torch.Tensor,
                        boxes: torch.Tensor) -> torch.Tensor:
    """FSANet's Gaussian centerness ``exp(-delta^T S^-1 delta)`` of points
    (N, 2) in rotated boxes (N, 5); (N,)."""
    located = torch.cat([points, boxes[:, 2:]], dim=1)
    return torch.exp(-whitened_offset(located, boxes).square().sum(-1))


def assign_centres(centres: torch.Tensor, regress_ranges: torch.Tensor,
                   gt_bboxes: torch.Tensor, gt_labels: torch.Tensor,
                   num_classes: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """FCOS's rule for rotated GTs at arbitrary centres (module docstring).

    Args:
        centres: (N, 2) the points judged (grid points or predicted centres).
        regress_ranges: (N, 2) ``(low, high)`` of each point's level.
        gt_bboxes: (G, 5) ``xywha`` GT boxes.
        gt_labels: (G,) their labels.
        num_classes: the background label.

    Returns:
        labels (N,) (``num_classes`` for background) and the index (N,) of
        the GT each point takes (meaningless for background).
    """
    num_points, num_gts = centres.size(0), gt_bboxes.size(0)
    if num_gts == 0:
        return (gt_labels.new_full((num_points, ), num_classes),
                gt_labels.new_zeros((num_points, )))
    gt_ctr, gt_wh, gt_angle = gt_bboxes.split([2, 2, 1], dim=1)
    cos, sin = torch.cos(gt_angle[:, 0]), torch.sin(gt_angle[:, 0])
    delta = centres[:, None, :] - gt_ctr[None]  # (N, G, 2)
    along = delta[..., 0] * cos + delta[..., 1] * sin
    across = -delta[..., 0] * sin + delta[..., 1] * cos
    half_w, half_h = gt_wh[:, 0] / 2, gt_wh[:, 1] / 2
    inside = (along.abs() < half_w) & (across.abs() < half_h)
    # Largest of the four side distances (w/2 +- along, h/2 +- across).
    largest = torch.maximum(half_w + along.abs(), half_h + across.abs())
    in_range = (largest >= regress_ranges[:, :1]) & (
        largest <= regress_ranges[:, 1:])
    areas = (gt_wh[:, 0] * gt_wh[:, 1])[None].expand(num_points, -1).clone()
    areas[~(inside & in_range)] = INF
    min_area, gt_inds = areas.min(dim=1)
    labels = gt_labels[gt_inds].clone()
    labels[min_area == INF] = num_classes
    return labels, gt_inds


@ROTATED_HEADS.register_module()
class SpatialAwareGuidanceHead(RotatedFCOSHead):
    """Oriented SAGH (module docstring).

    Args:
        num_classes, in_channels: as ``RotatedFCOSHead``.
        strides: level strides (P3-P5 in the paper).
        regress_ranges: per level ``(low, high)`` of the largest side
            distance (the paper's for P3-P5 by default).
        stacked_convs: tower depth (3 in the paper).
        dcn_kernel: side of the deformable convolutions.
        deform_groups: their deformable groups (4 in the paper).
        offset_mode: ``'learned'`` (the paper's) or ``'geometric'`` (ours).
        detach_offset_input: stop the offsets' gradient into the coarse
            branch (learned offsets only; the paper does not).
        loss_bbox: refined box loss (on decoded boxes).
        loss_bbox_coarse: coarse box loss (on decoded boxes).
        bbox_coder: a distance-angle point coder (default mmrotate's
            ``DistanceAnglePointCoder``, le90).
        Others: as ``RotatedFCOSHead`` (``center_sampling``,
        ``norm_on_bbox``, ``centerness_on_reg`` and ``separate_angle`` are not
        part of SAGH and are refused).

    ``forward`` returns six per-level lists: class logits (B, K, H, W),
    refined distances (B, 4, H, W), refined angles (B, 1, H, W), centerness
    logits (B, 1, H, W), coarse distances and coarse angles; ``loss`` and
    ``get_bboxes`` take them in that order.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 strides: Sequence[int] = (8, 16, 32),
                 regress_ranges: Sequence[Tuple[float, float]] = (
                     (-1, 64), (64, 128), (128, INF)),
                 stacked_convs: int = 3,
                 dcn_kernel: int = 3,
                 deform_groups: int = 4,
                 offset_mode: str = 'learned',
                 detach_offset_input: bool = False,
                 loss_bbox: Optional[Dict] = None,
                 loss_bbox_coarse: Optional[Dict] = None,
                 bbox_coder: Optional[Dict] = None,
                 **kwargs) -> None:
        for option in ('center_sampling', 'norm_on_bbox', 'centerness_on_reg',
                       'separate_angle'):
            if kwargs.get(option):
                raise ValueError(f'SpatialAwareGuidanceHead does not support '
                                 f'{option}')
        if offset_mode not in OFFSET_MODES:
            raise ValueError(f'offset_mode must be one of {OFFSET_MODES}, '
                             f'got {offset_mode!r}')
        self.dcn_kernel = dcn_kernel
        self.deform_groups = deform_groups
        self.offset_mode = offset_mode
        self.detach_offset_input = detach_offset_input
        super().__init__(
            num_classes,
            in_channels,
            strides=strides,
            regress_ranges=regress_ranges,
            stacked_convs=stacked_convs,
            loss_bbox=loss_bbox or dict(type='RotatedIoULoss',
                                        loss_weight=1.0),
            bbox_coder=bbox_coder or dict(type='DistanceAnglePointCoder',
                                          angle_version='le90'),
            **kwargs)
        self.loss_bbox_coarse = build_loss(
            loss_bbox_coarse or dict(type='RotatedIoULoss', loss_weight=0.2))
        if len(self.regress_ranges) != len(self.strides):
            raise ValueError(f'{len(self.regress_ranges)} regress ranges for '
                             f'{len(self.strides)} strides')

    def _init_layers(self) -> None:
        """``RotatedFCOSHead``'s towers and predictors (``conv_reg`` and
        ``conv_angle`` give the refined residuals) plus the coarse
        predictors, the offset conv and the two aligned convolutions."""
        super()._init_layers()
        self.conv_reg_coarse = nn.Conv2d(self.feat_channels, 4, 3, padding=1)
        self.conv_angle_coarse = nn.Conv2d(self.feat_channels, 1, 3,
                                           padding=1)
        kernel_points = self.dcn_kernel * self.dcn_kernel
        # Not named conv_offset: mmdet's BaseDenseHead.init_weights zeroes
        # any conv_offset, and the paper initialises it N(0, 0.01).
        self.offset_conv = nn.Conv2d(
            5, 2 * kernel_points * self.deform_groups, 1, bias=False)
        self.cls_align, self.reg_align = (
            SampledDeformConv2d(
                self.feat_channels, self.feat_channels, self.dcn_kernel,
                padding=(self.dcn_kernel - 1) // 2,
                deform_groups=self.deform_groups) for _ in range(2))
        self.cls_align_norm = build_norm_layer(self.norm_cfg,
                                               self.feat_channels)[1]
        self.reg_align_norm = build_norm_layer(self.norm_cfg,
                                               self.feat_channels)[1]
        self.relu = nn.ReLU(inplace=True)
        # AlignConv's offset computation (S2ANet) without its convolution.
        self._align_grid = SimpleNamespace(kernel_size=self.dcn_kernel)

    def forward(self, feats: Sequence[torch.Tensor]) -> tuple:
        """Six per-level lists (class docstring)."""
        return multi_apply(self.forward_single, feats, self.scales,
                           self.strides, list(range(len(feats))))

    def forward_single(self, x: torch.Tensor, scale: nn.Module, stride: int,
                       level: int) -> Tuple[torch.Tensor, ...]:
        """One level ``x`` (B, C, H, W); see :meth:`forward`."""
        cls_feat, reg_feat = x, x
        for layer in self.cls_convs:
            cls_feat = layer(cls_feat)
        for layer in self.reg_convs:
            reg_feat = layer(reg_feat)

        raw_dist = self.conv_reg_coarse(reg_feat)
        raw_angle = self.conv_angle_coarse(reg_feat)
        coarse_dist = scale(raw_dist).float().exp()
        coarse_angle = self._scale_angle(raw_angle)

        offset = self._offsets(raw_dist, raw_angle, coarse_dist, coarse_angle,
                               stride, level)
        cls_feat = self.relu(self.cls_align_norm(
            self.cls_align(cls_feat, offset)))
        reg_feat = self.relu(self.reg_align_norm(
            self.reg_align(reg_feat, offset)))

        cls_score = self.conv_cls(cls_feat)
        centerness = self.conv_centerness(cls_feat)
        dist = coarse_dist + scale(self.conv_reg(reg_feat)).float()
        angle = coarse_angle + self._scale_angle(self.conv_angle(reg_feat))
        return cls_score, dist, angle, centerness, coarse_dist, coarse_angle

    def _scale_angle(self, angle: torch.Tensor) -> torch.Tensor:
        if self.is_scale_angle:
            return self.scale_angle(angle).float()
        return angle.float()

    def _offsets(self, raw_dist: torch.Tensor, raw_angle: torch.Tensor,
                 coarse_dist: torch.Tensor, coarse_angle: torch.Tensor,
                 stride: int, level: int) -> torch.Tensor:
        """(B, 2*K*G, H, W) deformable offsets in mmcv's layout."""
        if self.offset_mode == 'learned':
            raw = torch.cat([raw_dist, raw_angle], 1)
            if self.detach_offset_input:
                raw = raw.detach()
            return self.offset_conv(raw)
        height, width = coarse_dist.shape[-2:]
        points = self.prior_generator.single_level_grid_priors(
            (height, width), level, dtype=coarse_dist.dtype,
            device=coarse_dist.device)
        boxes = self._decode_maps(points, coarse_dist.detach(),
                                  coarse_angle.detach())
        # AlignConv puts feature pixel j at image position j * stride; our
        # points sit at (j + offset) * stride.
        shift = self.prior_generator.offset * stride
        boxes[..., :2] -= shift
        offsets = [
            AlignConv.get_offset(self._align_grid, img_boxes,
                                 (height, width), stride)
            for img_boxes in boxes
        ]
        return torch.stack(offsets).repeat(1, self.deform_groups, 1, 1)

    def _decode_maps(self, points: torch.Tensor, dist: torch.Tensor,
                     angle: torch.Tensor) -> torch.Tensor:
        """(B, 4, H, W) distances and (B, 1, H, W) angles at ``points``
        (H*W, 2) -> (B, H*W, 5) boxes."""
        num_imgs = dist.size(0)
        preds = torch.cat([dist, angle], 1).permute(0, 2, 3, 1).reshape(-1, 5)
        boxes = self.bbox_coder.decode(points.repeat(num_imgs, 1), preds)
        return boxes.view(num_imgs, -1, 5)

    def get_assignment(self, points: List[torch.Tensor],
                       centres: torch.Tensor, gt_bboxes: List[torch.Tensor],
                       gt_labels: List[torch.Tensor]
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Labels (B, N) and GT boxes (B, N, 5) of the N locations of all
        levels, per image.

        Args:
            points: per level (N_l, 2) grid points (for the level ranges).
            centres: (B, N, 2) the centres judged: the grid points for the
                coarse assignment, the refined boxes' centres for the refined
                one.
        """
        ranges = torch.cat([
            lvl_points.new_tensor(rng)[None].expand(lvl_points.size(0), 2)
            for lvl_points, rng in zip(points, self.regress_ranges)
        ])
        labels, boxes = [], []
        for img_centres, bboxes, img_labels in zip(centres, gt_bboxes,
                                                   gt_labels):
            img_targets, inds = assign_centres(
                img_centres, ranges, bboxes.to(img_centres.dtype), img_labels,
                self.num_classes)
            labels.append(img_targets)
            boxes.append(
                bboxes[inds].to(img_centres.dtype) if bboxes.numel() else
                img_centres.new_zeros((img_centres.size(0), 5)))
        return torch.stack(labels), torch.stack(boxes)

    def get_sagh_targets(self, points: List[torch.Tensor],
                         refined: torch.Tensor,
                         gt_bboxes: List[torch.Tensor],
                         gt_labels: List[torch.Tensor]
                         ) -> Tuple[torch.Tensor, ...]:
        """Coarse and refined assignments.

        Args:
            points: per level (N_l, 2) grid points.
            refined: (B, N, 5) refined predictions ``(l, t, r, b, angle)`` at
                the N points of all levels.

        Returns:
            coarse labels (B, N), coarse GT boxes (B, N, 5), refined labels
            (B, N) and refined GT boxes (B, N, 5).
        """
        num_imgs, num_points = refined.shape[:2]
        flat_points = torch.cat(points)
        with torch.no_grad():
            centres = self.bbox_coder.decode(
                flat_points.repeat(num_imgs, 1),
                refined.detach().reshape(-1, 5))[:, :2]
        coarse_labels, coarse_gts = self.get_assignment(
            points, flat_points[None].expand(num_imgs, -1, -1), gt_bboxes,
            gt_labels)
        refined_labels, refined_gts = self.get_assignment(
            points, centres.view(num_imgs, num_points, 2), gt_bboxes,
            gt_labels)
        return coarse_labels, coarse_gts, refined_labels, refined_gts

    @force_fp32(apply_to=('cls_scores', 'bbox_preds', 'angle_preds',
                          'centernesses', 'coarse_bbox_preds',
                          'coarse_angle_preds'))
    def loss(self,
             cls_scores: List[torch.Tensor],
             bbox_preds: List[torch.Tensor],
             angle_preds: List[torch.Tensor],
             centernesses: List[torch.Tensor],
             coarse_bbox_preds: List[torch.Tensor],
             coarse_angle_preds: List[torch.Tensor],
             gt_bboxes: List[torch.Tensor],
             gt_labels: List[torch.Tensor],
             img_metas: List[dict],
             gt_bboxes_ignore: Optional[List[torch.Tensor]] = None
             ) -> Dict[str, torch.Tensor]:
        """``loss_cls`` (refined labels), ``loss_bbox`` (refined),
        ``loss_bbox_coarse`` and ``loss_centerness`` (module docstring)."""
        if gt_bboxes_ignore is not None and any(
                ignore.numel() for ignore in gt_bboxes_ignore):
            raise ValueError('SpatialAwareGuidanceHead does not support '
                             'ignored GTs')
        featmap_sizes = [score.shape[-2:] for score in cls_scores]
        dtype, device = bbox_preds[0].dtype, bbox_preds[0].device
        points = self.prior_generator.grid_priors(
            featmap_sizes, dtype=dtype, device=device)
        num_imgs = cls_scores[0].size(0)
        flat_points = torch.cat(points)

        def flatten(maps: List[torch.Tensor], channels: int) -> torch.Tensor:
            return torch.cat([
                m.permute(0, 2, 3, 1).reshape(num_imgs, -1, channels)
                for m in maps
            ], 1)

        flat_cls = flatten(cls_scores, self.cls_out_channels)
        refined = torch.cat([flatten(bbox_preds, 4),
                             flatten(angle_preds, 1)], -1)
        coarse = torch.cat([flatten(coarse_bbox_preds, 4),
                            flatten(coarse_angle_preds, 1)], -1)
        flat_centerness = flatten(centernesses, 1).reshape(-1)
        all_points = flat_points.repeat(num_imgs, 1)
        coarse_labels, coarse_gts, refined_labels, refined_gts = \
            self.get_sagh_targets(points, refined, gt_bboxes, gt_labels)

        refined_labels = refined_labels.reshape(-1)
        refined_pos = refined_labels < self.num_classes
        num_pos = max(reduce_mean(refined_pos.sum().to(dtype)).item(), 1.0)
        loss_cls = self.loss_cls(
            flat_cls.reshape(-1, self.cls_out_channels), refined_labels,
            avg_factor=num_pos)

        loss_bbox, centerness_targets = self._box_loss(
            self.loss_bbox, all_points, refined.reshape(-1, 5),
            refined_gts.reshape(-1, 5), refined_pos)
        loss_bbox_coarse, _ = self._box_loss(
            self.loss_bbox_coarse, all_points, coarse.reshape(-1, 5),
            coarse_gts.reshape(-1, 5),
            coarse_labels.reshape(-1) < self.num_classes)
        pos_centerness = flat_centerness[refined_pos]
        if pos_centerness.numel():
            loss_centerness = self.loss_centerness(
                pos_centerness, centerness_targets, avg_factor=num_pos)
        else:
            loss_centerness = pos_centerness.sum()
        return dict(loss_cls=loss_cls, loss_bbox=loss_bbox,
                    loss_bbox_coarse=loss_bbox_coarse,
                    loss_centerness=loss_centerness)

    def _box_loss(self, loss_fn: nn.Module, points: torch.Tensor,
                  preds: torch.Tensor, gts: torch.Tensor,
                  positive: torch.Tensor
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Gaussian-centerness-weighted box loss over the positives and the
        centerness targets (P,) of those positives."""
        pos_points = points[positive]
        pos_preds = preds[positive]
        if pos_points.size(0) == 0:
            return pos_preds.sum(), pos_preds.new_zeros((0, ))
        pos_gts = gts[positive]
        weights = gaussian_centerness(pos_points, pos_gts)
        denorm = max(reduce_mean(weights.sum().detach()).item(), 1e-6)
        decoded = self.bbox_coder.decode(pos_points, pos_preds)
        return loss_fn(decoded, pos_gts, weight=weights,
                       avg_factor=denorm), weights

    @force_fp32(apply_to=('cls_scores', 'bbox_preds', 'angle_preds',
                          'centernesses'))
    def get_bboxes(self,
                   cls_scores: List[torch.Tensor],
                   bbox_preds: List[torch.Tensor],
                   angle_preds: List[torch.Tensor],
                   centernesses: List[torch.Tensor],
                   coarse_bbox_preds: List[torch.Tensor],
                   coarse_angle_preds: List[torch.Tensor],
                   img_metas: List[dict],
                   cfg=None,
                   rescale: bool = False) -> list:
        """Per image (n, 6) ``xywha, score`` boxes and (n,) labels from the
        refined outputs (the coarse ones are not used at test time)."""
        return super().get_bboxes(cls_scores, bbox_preds, angle_preds,
                                  centernesses, img_metas, cfg=cfg,
                                  rescale=rescale)

"""KLDet's head made oriented: a rotated FCOS head with receptive-field priors,
Ali-TSM assignment and task-level attention."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmcv.cnn import build_plugin_layer
from mmcv.runner import force_fp32
from mmdet.core import multi_apply, reduce_mean
from mmrotate.core.anchor.builder import build_prior_generator
from mmrotate.core.bbox.builder import build_assigner
from mmrotate.models.builder import ROTATED_HEADS
from mmrotate.models.dense_heads.rotated_fcos_head import RotatedFCOSHead

from rotated_tod.core.bbox.coder import SignedDistanceDecoder
from rotated_tod.core.bbox.gaussian import whitened_offset

INF = 1e8


@ROTATED_HEADS.register_module()
class KLDetHead(RotatedFCOSHead):
    """Rotated FCOS-style head of KLDet.

    Per level ``l`` (stride ``s_l``, prior side ``p_l = fraction * TRF(l)``)
    and location ``(x, y)``, on top of ``RotatedFCOSHead``'s towers:

    - task-level attention (:class:`TaskLevelAttention`, one module for the
      classification tower, one for the regression tower, each shared by all
      levels) between each tower and its predictors;
    - signed distances to the box sides relative to the receptive-field prior,
      ``(l, t, r, b) = s_l * scale_l(conv_reg) + p_l / 2``, plus the angle
      ``scale_angle(conv_angle)``; decoded by :class:`SignedDistanceDecoder`;
    - assignment: with ``train_cfg.assigner`` (``AliTSMAssigner``) the
      priors ``(x, y, p_l, p_l, 0)`` are assigned with the detached
      classification logits, and the priors it ignores (Ali-TSM: best
      ``m1 >= neg_thr`` without being positive) get zero classification
      weight; without it, ``RotatedFCOSHead``'s rule (inside the GT,
      regress ranges, optional centre sampling);
    - centerness target: the Gaussian centerness of the location in its GT,
      ``exp(-0.5 delta^T S^-1 delta)`` (defined also outside the box, where
      Ali-TSM may put tiny objects' positives); it weights the box loss, as
      in FCOS;
    - box loss on decoded boxes against the GT boxes: any rotated box loss
      with a CPU path (the Gaussian losses; mmrotate's ``RotatedIoULoss`` only
      on CUDA).

    Args:
        num_classes, in_channels: as ``RotatedFCOSHead``.
        strides: level strides (P2-P6 by default).
        regress_ranges: FCOS ranges, used only without an assigner.
        prior_generator: a generator with ``prior_sizes`` and
            ``grid_rf_priors``; default ``ReceptiveFieldPriorGenerator`` with
            ``fraction=0.5``; its ``strides`` and ``backbone`` default to the
            head's.
        backbone: config of the backbone feeding the head (``KLDet`` passes
            its own), for the receptive fields.
        task_attention: plugin config (e.g. ``dict(type='TaskLevelAttention',
            ratio=4)``, as the configs set); None: no task attention.
        bbox_coder: the distance-angle coder wrapped by
            :class:`SignedDistanceDecoder` (default mmrotate's
            ``DistanceAnglePointCoder``, le90).
        min_box_size: smallest decoded side (px), keeps Gaussians proper.
        train_cfg: may hold ``assigner``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 strides: Sequence[int] = (4, 8, 16, 32, 64),
                 regress_ranges: Sequence[Tuple[float, float]] = (
                     (-1, 32), (32, 64), (64, 128), (128, 256), (256, INF)),
                 prior_generator: Optional[Dict] = None,
                 backbone: Optional[Dict] = None,
                 task_attention: Optional[Dict] = None,
                 bbox_coder: Optional[Dict] = None,
                 min_box_size: float = 1e-2,
                 centerness_on_reg: bool = True,
                 train_cfg: Optional[Dict] = None,
                 **kwargs) -> None:
        for option in ('norm_on_bbox', 'separate_angle'):
            if kwargs.get(option):
                raise ValueError(f'KLDetHead does not support {option}')
        self.task_attention_cfg = task_attention
        bbox_coder = bbox_coder or dict(type='DistanceAnglePointCoder',
                                        angle_version='le90')
        prior_generator = prior_generator or dict(
            type='ReceptiveFieldPriorGenerator', fraction=0.5)
        super().__init__(
            num_classes,
            in_channels,
            strides=strides,
            regress_ranges=regress_ranges,
            bbox_coder=bbox_coder,
            centerness_on_reg=centerness_on_reg,
            train_cfg=train_cfg,
            **kwargs)
        self.prior_generator = build_prior_generator(
            prior_generator, default_args=dict(strides=strides,
                                               backbone=backbone))
        if [s[0] for s in self.prior_generator.strides] != list(strides):
            raise ValueError(f'prior generator strides '
                             f'{self.prior_generator.strides} differ from the '
                             f'head strides {strides}')
        self.bbox_coder = SignedDistanceDecoder(self.bbox_coder, min_box_size)
        self.assigner = None
        if train_cfg is not None and train_cfg.get('assigner') is not None:
            self.assigner = build_assigner(train_cfg['assigner'])

    def _init_layers(self) -> None:
        """RotatedFCOSHead's layers plus the two task attentions."""
        super()._init_layers()
        self.cls_attention = self.reg_attention = None
        if self.task_attention_cfg is not None:
            _, self.cls_attention = build_plugin_layer(
                self.task_attention_cfg, postfix='_cls',
                channels=self.feat_channels)
            _, self.reg_attention = build_plugin_layer(
                self.task_attention_cfg, postfix='_reg',
                channels=self.feat_channels)

    def forward(self, feats: Sequence[torch.Tensor]) -> tuple:
        """Per level: cls (B, C, H, W), distances (B, 4, H, W) in pixels,
        angle (B, 1, H, W), centerness logits (B, 1, H, W)."""
        return multi_apply(self.forward_single, feats, self.scales,
                           self.strides, self.prior_generator.prior_sizes)

    def forward_single(self, x: torch.Tensor, scale, stride: int,
                       prior_size: float) -> tuple:
        """One level; see :meth:`forward`."""
        cls_feat, reg_feat = x, x
        for layer in self.cls_convs:
            cls_feat = layer(cls_feat)
        for layer in self.reg_convs:
            reg_feat = layer(reg_feat)
        if self.cls_attention is not None:
            cls_feat = self.cls_attention(cls_feat)
            reg_feat = self.reg_attention(reg_feat)
        cls_score = self.conv_cls(cls_feat)
        distances = scale(self.conv_reg(reg_feat)).float() * stride \
            + 0.5 * prior_size
        angle_pred = self.conv_angle(reg_feat)
        if self.is_scale_angle:
            angle_pred = self.scale_angle(angle_pred).float()
        centerness = self.conv_centerness(
            reg_feat if self.centerness_on_reg else cls_feat)
        return cls_score, distances, angle_pred, centerness

    @staticmethod
    def gaussian_centerness(points: torch.Tensor,
                            boxes: torch.Tensor) -> torch.Tensor:
        """``exp(-0.5 delta^T S^-1 delta)`` of points (N, 2) in boxes (N, 5),
        ``delta = p - mu``: the GT Gaussian's density at the point over its
        peak density."""
        located = torch.cat([points, boxes[:, 2:]], dim=1)
        mahalanobis = whitened_offset(located, boxes).square().sum(-1)
        return torch.exp(-0.5 * mahalanobis)

    def get_kldet_targets(self, points: List[torch.Tensor],
                          cls_scores: torch.Tensor,
                          gt_bboxes: List[torch.Tensor],
                          gt_labels: List[torch.Tensor],
                          featmap_sizes: List[torch.Size]
                          ) -> Tuple[torch.Tensor, torch.Tensor,
                                     torch.Tensor]:
        """Labels (B, N) (``num_classes`` = background), classification
        weights (B, N) (0 where the assigner ignores the prior, else 1) and GT
        boxes (B, N, 5) of the N locations of all levels, per image.

        Args:
            points: per level (N_l, 2) locations.
            cls_scores: (B, N, C) logits (used by the assigner, detached).
        """
        num_imgs, num_points = cls_scores.shape[:2]
        if self.assigner is None:
            labels, distances, angles = self.get_targets(
                points, gt_bboxes, gt_labels)
            labels = torch.cat([lv.view(num_imgs, -1) for lv in labels], 1)
            targets = torch.cat([
                torch.cat([d.view(num_imgs, -1, 4),
                           a.view(num_imgs, -1, 1)], -1)
                for d, a in zip(distances, angles)
            ], 1)
            flat_points = torch.cat(points).repeat(num_imgs, 1)
            boxes = self.bbox_coder.coder.decode(flat_points,
                                                 targets.reshape(-1, 5))
            return labels, torch.ones_like(labels, dtype=cls_scores.dtype), \
                boxes.view(num_imgs, num_points, 5)
        priors = torch.cat(self.prior_generator.grid_rf_priors(
            featmap_sizes, dtype=cls_scores.dtype, device=cls_scores.device))
        labels = cls_scores.new_full((num_imgs, num_points), self.num_classes,
                                     dtype=torch.long)
        label_weights = cls_scores.new_ones((num_imgs, num_points))
        boxes = cls_scores.new_zeros((num_imgs, num_points, 5))
        for index in range(num_imgs):
            result = self.assigner.assign(priors, cls_scores[index],
                                          gt_bboxes[index], gt_labels[index])
            positive = result.gt_inds > 0
            label_weights[index, result.gt_inds < 0] = 0
            labels[index, positive] = result.labels[positive]
            boxes[index, positive] = gt_bboxes[index][
                result.gt_inds[positive] - 1].to(boxes.dtype)
        return labels, label_weights, boxes

    @force_fp32(
        apply_to=('cls_scores', 'bbox_preds', 'angle_preds', 'centernesses'))
    def loss(self,
             cls_scores: List[torch.Tensor],
             bbox_preds: List[torch.Tensor],
             angle_preds: List[torch.Tensor],
             centernesses: List[torch.Tensor],
             gt_bboxes: List[torch.Tensor],
             gt_labels: List[torch.Tensor],
             img_metas: List[dict],
             gt_bboxes_ignore: Optional[List[torch.Tensor]] = None
             ) -> Dict[str, torch.Tensor]:
        """Focal classification loss over all locations but the ignored
        ones; box and centerness losses over the positives (box loss weighted
        by the centerness target)."""
        if gt_bboxes_ignore is not None and any(
                ignore.numel() for ignore in gt_bboxes_ignore):
            raise ValueError('KLDetHead does not support ignored GTs')
        featmap_sizes = [score.shape[-2:] for score in cls_scores]
        device, dtype = bbox_preds[0].device, bbox_preds[0].dtype
        points = self.prior_generator.grid_priors(
            featmap_sizes, dtype=dtype, device=device)
        num_imgs = cls_scores[0].size(0)

        def flatten(maps: List[torch.Tensor], channels: int) -> torch.Tensor:
            return torch.cat([
                m.permute(0, 2, 3, 1).reshape(num_imgs, -1, channels)
                for m in maps
            ], 1)

        flat_cls = flatten(cls_scores, self.cls_out_channels)
        flat_boxes = torch.cat(
            [flatten(bbox_preds, 4), flatten(angle_preds, 1)], -1)
        flat_centerness = flatten(centernesses, 1).reshape(-1)
        labels, label_weights, target_boxes = self.get_kldet_targets(
            points, flat_cls, gt_bboxes, gt_labels, featmap_sizes)
        labels = labels.reshape(-1)
        positive = (labels >= 0) & (labels < self.num_classes)
        num_pos = max(
            reduce_mean(positive.sum().to(flat_cls.dtype)).item(), 1.0)
        loss_cls = self.loss_cls(
            flat_cls.reshape(-1, self.cls_out_channels), labels,
            weight=label_weights.reshape(-1), avg_factor=num_pos)

        pos_points = torch.cat(points).repeat(num_imgs, 1)[positive]
        pos_preds = flat_boxes.reshape(-1, 5)[positive]
        pos_centerness = flat_centerness[positive]
        pos_targets = target_boxes.reshape(-1, 5)[positive]
        if pos_points.size(0) == 0:
            return dict(loss_cls=loss_cls, loss_bbox=pos_preds.sum(),
                        loss_centerness=pos_centerness.sum())
        centerness_targets = self.gaussian_centerness(pos_points, pos_targets)
        centerness_denorm = max(
            reduce_mean(centerness_targets.sum().detach()).item(), 1e-6)
        pos_decoded = self.bbox_coder.decode(pos_points, pos_preds)
        loss_bbox = self.loss_bbox(
            pos_decoded, pos_targets, weight=centerness_targets,
            avg_factor=centerness_denorm)
        loss_centerness = self.loss_centerness(
            pos_centerness, centerness_targets, avg_factor=num_pos)
        return dict(loss_cls=loss_cls, loss_bbox=loss_bbox,
                    loss_centerness=loss_centerness)

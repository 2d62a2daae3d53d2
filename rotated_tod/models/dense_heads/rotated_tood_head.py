"""A rotated task-aligned one-stage head (TOOD made oriented, our design)."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import PLUGIN_LAYERS, ConvModule, Scale, bias_init_with_prob, normal_init
from mmcv.runner import force_fp32
from mmcv.utils import ConfigDict, build_from_cfg
from mmdet.core import reduce_mean
from mmdet.core.anchor import MlvlPointGenerator
from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
from mmdet.models.dense_heads.dense_test_mixins import BBoxTestMixin
from mmdet.models.dense_heads.tood_head import TaskDecomposition
from mmdet.models.utils import sigmoid_geometric_mean
from mmrotate.core.bbox.builder import build_assigner, build_bbox_coder
from mmrotate.models.builder import ROTATED_HEADS, build_loss
from torch import nn

from rotated_tod.core.post_processing import multiclass_nms_rotated

#: Channel groups of the decoded box ``(cx, cy, w, h, cos 2a, sin 2a)``
#: sampled at one offset each by the regression alignment.
ALIGN_GROUPS = ((0, 2), (2, 4), (4, 6))


@ROTATED_HEADS.register_module()
class RotatedTOODHead(BaseDenseHead, BBoxTestMixin):
    r"""TOOD's task-aligned head (C. Feng et al., "TOOD: Task-aligned
    One-stage Object Detection", ICCV 2021) for rotated boxes.

    mmrotate 0.3.4 has no task-aligned head; this one is our oriented design
    after TOOD (it is also the base of AFMNet, whose code is unreleased).
    Per level (stride ``s``, feature ``x`` (B, C_in, H, W)):

    - task-interactive features: ``stacked_convs`` 3x3 convs, their outputs
      concatenated, ``feat`` (B, C N, H, W);
    - task decomposition: mmdet's ``TaskDecomposition`` (layer attention)
      gives ``cls_feat`` and ``reg_feat`` (B, C, H, W);
    - optional fine-grained mining (``mining``, a plugin such as
      :class:`FineGrainedMining`) on ``[cls_feat, reg_feat]``, guided by the
      best class probability times the ``guidance`` map of the level;
    - classification alignment: ``score = sqrt(sigmoid(cls) sigmoid(prob))``
      with the probability map ``prob = conv3x3(relu(conv1x1(feat)))``;
    - boxes: distances + angle, ``(l, t, r, b) = s * scale * exp(reg_1..4)``
      and ``a = reg_5``, decoded at the location ``p`` by mmrotate's
      ``DistanceAnglePointCoder`` into ``(cx, cy, w, h, a)``. We chose this
      coder over a delta coder because the head is anchor-free (TOOD's
      ``anchor_free`` mode) and the regression alignment resamples decoded,
      absolute boxes from neighbouring locations: a distance+angle box
      decodes without an anchor, and its sizes ``l + r``, ``t + b`` stay
      positive;
    - regression alignment: ``offset = conv3x3(relu(conv1x1(feat)))``
      (B, 6, H, W); the decoded box is written as
      ``(cx, cy, w, h, cos 2a, sin 2a)`` and each of its three pairs
      (centre, size, angle) is bilinearly sampled at its own offset
      (``grid_sample``, border padding; TOOD samples each of x1, y1, x2, y2
      with a 1x1 deformable conv), then ``a = atan2(sin 2a, cos 2a) / 2``:
      the doubled angle interpolates across the ``-pi/2 == pi/2`` wrap;
    - optional RoI interaction (``interaction``, e.g. :class:`RoIInteraction`)
      rescoring and refining the top-scoring boxes of all levels.

    Outputs per level: scores (B, num_classes, H, W), already probabilities,
    and boxes (B, 5, H, W), decoded, in pixels.

    Training (``train_cfg``):

    - ``initial_epoch`` / ``initial_iter``: while the runner's epoch /
      iteration (set by ``TrainProgressHook`` through
      :meth:`set_train_progress`) is below it, ``initial_assigner``
      (:class:`RotatedATSSAssigner`) assigns the prior boxes
      ``(p, prior_scale * s, prior_scale * s, 0)``; after it, ``assigner``
      (:class:`RotatedTaskAlignedAssigner`) assigns with ``t = s^alpha
      u^beta``. Without the hook the iteration is the head's own count of
      training steps (kept in checkpoints); an epoch switch needs the hook;
    - classification: quality focal loss (``activated=True``) against the
      quality of each positive: in the task-aligned phase TOOD's normalised
      alignment ``t / max_g t * max_g u`` (max over the positives of the
      same GT ``g``), in the ATSS phase the overlap ``u`` of the predicted box
      with its GT (as GFL; TOOD uses a plain focal loss there); normalised
      by the sum of the qualities (TOOD) / the number of positives;
    - boxes: any rotated box loss with a CPU path (the Gaussian losses) on
      decoded boxes against the GTs, weighted by the normalised alignment
      (task-aligned phase; 1 for the positives of a GT whose alignments are
      all 0, ours) or 1 (ATSS phase).

    Args:
        num_classes, in_channels: classes and input channels.
        feat_channels, stacked_convs: C and N of the tower.
        strides: level strides.
        la_down_rate: squeeze ratio of the layer attention (TOOD: 8 N).
        bbox_coder: distance-angle coder config.
        prior_scale: side of the ATSS prior boxes in strides (TOOD: 8).
        mining, interaction: optional plugin configs (None: off).
        conv_cfg, norm_cfg: of the convs.
        loss_cls, loss_bbox: loss configs (default: quality focal loss on
            probabilities; ``KLDLoss`` with weight 2, TOOD's GIoU weight).
        train_cfg, test_cfg, init_cfg: as usual.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 feat_channels: int = 256,
                 stacked_convs: int = 6,
                 strides: Sequence[int] = (8, 16, 32, 64, 128),
                 la_down_rate: Optional[int] = None,
                 bbox_coder: Optional[Dict] = None,
                 prior_scale: float = 8.0,
                 mining: Optional[Dict] = None,
                 interaction: Optional[Dict] = None,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Optional[Dict] = None,
                 loss_cls: Optional[Dict] = None,
                 loss_bbox: Optional[Dict] = None,
                 train_cfg: Optional[Dict] = None,
                 test_cfg: Optional[Dict] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.cls_out_channels = num_classes
        self.in_channels = in_channels
        self.feat_channels = feat_channels
        self.stacked_convs = stacked_convs
        self.strides = [int(s) for s in strides]
        self.prior_scale = prior_scale
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg if norm_cfg is not None else dict(
            type='GN', num_groups=32, requires_grad=True)
        self.la_down_rate = la_down_rate or 8 * stacked_convs
        self.prior_generator = MlvlPointGenerator(self.strides, offset=0.5)
        self.bbox_coder = build_bbox_coder(
            bbox_coder or dict(type='DistanceAnglePointCoder',
                               angle_version='le90'))
        self.loss_cls = build_loss(loss_cls or dict(
            type='QualityFocalLoss', use_sigmoid=True, activated=True,
            beta=2.0, loss_weight=1.0))
        self.loss_bbox = build_loss(loss_bbox or dict(type='KLDLoss',
                                                      loss_weight=2.0))
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.epoch: Optional[int] = None
        self.iter: Optional[int] = None
        self.register_buffer('num_train_steps', torch.zeros((),
                                                            dtype=torch.long))
        self.assigner = self.initial_assigner = None
        self.initial_epoch = self.initial_iter = 0
        if train_cfg is not None:
            self.initial_epoch = int(train_cfg.get('initial_epoch', 0))
            self.initial_iter = int(train_cfg.get('initial_iter', 0))
            if self.initial_epoch > 0 and self.initial_iter > 0:
                raise ValueError('give initial_epoch or initial_iter, not '
                                 'both')
            self.assigner = build_assigner(train_cfg['assigner'])
            if self.initial_epoch > 0 or self.initial_iter > 0:
                self.initial_assigner = build_assigner(
                    train_cfg['initial_assigner'])
        self._init_layers()
        channels = 2 * feat_channels
        self.mining = None if mining is None else build_from_cfg(
            mining, PLUGIN_LAYERS, dict(channels=channels))
        self.interaction = None if interaction is None else build_from_cfg(
            interaction, PLUGIN_LAYERS,
            dict(in_channels=in_channels, num_classes=num_classes))

    def _init_layers(self) -> None:
        self.inter_convs = nn.ModuleList([
            ConvModule(self.in_channels if i == 0 else self.feat_channels,
                       self.feat_channels, 3, padding=1,
                       conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg)
            for i in range(self.stacked_convs)
        ])
        self.cls_decomp = TaskDecomposition(
            self.feat_channels, self.stacked_convs, self.la_down_rate,
            self.conv_cfg, self.norm_cfg)
        self.reg_decomp = TaskDecomposition(
            self.feat_channels, self.stacked_convs, self.la_down_rate,
            self.conv_cfg, self.norm_cfg)
        self.tood_cls = nn.Conv2d(self.feat_channels, self.num_classes, 3,
                                  padding=1)
        self.tood_reg = nn.Conv2d(self.feat_channels, 5, 3, padding=1)
        inter = self.feat_channels * self.stacked_convs
        self.cls_prob_module = nn.Sequential(
            nn.Conv2d(inter, self.feat_channels // 4, 1), nn.ReLU(),
            nn.Conv2d(self.feat_channels // 4, 1, 3, padding=1))
        self.reg_offset_module = nn.Sequential(
            nn.Conv2d(inter, self.feat_channels // 4, 1), nn.ReLU(),
            nn.Conv2d(self.feat_channels // 4, 2 * len(ALIGN_GROUPS), 3,
                      padding=1))
        self.scales = nn.ModuleList([Scale(1.0) for _ in self.strides])

    def init_weights(self) -> None:
        """TOOD's initialisation; the offsets start at 0 (no resampling)."""
        super().init_weights()
        bias_cls = bias_init_with_prob(0.01)
        for module in self.inter_convs:
            normal_init(module.conv, std=0.01)
        for module in self.cls_prob_module:
            if isinstance(module, nn.Conv2d):
                normal_init(module, std=0.01)
        normal_init(self.cls_prob_module[-1], std=0.01, bias=bias_cls)
        normal_init(self.reg_offset_module[0], std=0.001)
        nn.init.zeros_(self.reg_offset_module[-1].weight)
        nn.init.zeros_(self.reg_offset_module[-1].bias)
        self.cls_decomp.init_weights()
        self.reg_decomp.init_weights()
        normal_init(self.tood_cls, std=0.01, bias=bias_cls)
        normal_init(self.tood_reg, std=0.01)

    def set_train_progress(self, epoch: int, iteration: int) -> None:
        """The runner's epoch and iteration (``TrainProgressHook``)."""
        self.epoch, self.iter = int(epoch), int(iteration)

    def in_initial_phase(self) -> bool:
        """Whether the ATSS phase is on (see the class docstring)."""
        if self.initial_epoch > 0:
            if self.epoch is None:
                raise RuntimeError(
                    'initial_epoch needs the runner epoch: add '
                    "dict(type='TrainProgressHook') to custom_hooks")
            return self.epoch < self.initial_epoch
        if self.initial_iter > 0:
            iteration = (int(self.num_train_steps)
                         if self.iter is None else self.iter)
            return iteration < self.initial_iter
        return False

    def forward(self, feats: Sequence[torch.Tensor],
                guidance: Optional[Sequence[torch.Tensor]] = None
                ) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        """Per level scores (B, C, H, W) and decoded boxes (B, 5, H, W).

        Args:
            feats: per level (B, C_in, H, W).
            guidance: per level (B, H, W) maps multiplying the class score
                that selects the mined locations (None: all ones).
        """
        if len(feats) != len(self.strides):
            raise ValueError(f'{len(feats)} feature levels for strides '
                             f'{self.strides}')
        if guidance is None:
            guidance = [None] * len(feats)
        cls_scores, bbox_preds = [], []
        for level, (x, guide) in enumerate(zip(feats, guidance)):
            score, boxes = self.forward_single(x, level, guide)
            cls_scores.append(score)
            bbox_preds.append(boxes)
        if self.interaction is not None:
            cls_scores, bbox_preds = self.interaction(
                feats, self.strides, cls_scores, bbox_preds)
        return cls_scores, bbox_preds

    def forward_single(self, x: torch.Tensor, level: int,
                       guide: Optional[torch.Tensor] = None
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
        """One level; see :meth:`forward`."""
        batch, _, height, width = x.shape
        inter_feats = []
        for conv in self.inter_convs:
            x = conv(x)
            inter_feats.append(x)
        feat = torch.cat(inter_feats, 1)
        avg_feat = F.adaptive_avg_pool2d(feat, (1, 1))
        cls_feat = self.cls_decomp(feat, avg_feat)
        reg_feat = self.reg_decomp(feat, avg_feat)
        if self.mining is not None:
            score = self.tood_cls(cls_feat).detach().sigmoid().amax(1)
            if guide is not None:
                score = score * guide
            joint = self.mining(torch.cat([cls_feat, reg_feat], 1), score)
            cls_feat, reg_feat = joint.split(self.feat_channels, 1)
        cls_score = sigmoid_geometric_mean(self.tood_cls(cls_feat),
                                           self.cls_prob_module(feat))
        reg = self.tood_reg(reg_feat).float()
        stride = self.strides[level]
        distances = self.scales[level](reg[:, :4].exp()) * stride
        points = self.prior_generator.single_level_grid_priors(
            (height, width), level, dtype=reg.dtype, device=reg.device)
        pred = torch.cat([distances, reg[:, 4:]], 1)
        pred = pred.permute(0, 2, 3, 1).reshape(-1, 5)
        boxes = self.bbox_coder.decode(points.repeat(batch, 1), pred)
        boxes = boxes.reshape(batch, height, width, 5).permute(0, 3, 1, 2)
        offsets = self.reg_offset_module(feat).float()
        return cls_score, self.align_boxes(boxes, offsets)

    @staticmethod
    def align_boxes(boxes: torch.Tensor,
                    offsets: torch.Tensor) -> torch.Tensor:
        """Regression alignment: boxes (B, 5, H, W) resampled by offsets
        (B, 6, H, W) (``(dx, dy)`` in cells per group of ``ALIGN_GROUPS``);
        zero offsets return the boxes (up to the angle's wrap into
        ``(-pi/2, pi/2]``)."""
        batch, _, height, width = boxes.shape
        angle = 2 * boxes[:, 4:5]
        params = torch.cat([boxes[:, :4], angle.cos(), angle.sin()], 1)
        ys, xs = torch.meshgrid(
            torch.arange(height, dtype=boxes.dtype, device=boxes.device),
            torch.arange(width, dtype=boxes.dtype, device=boxes.device),
            indexing='ij')
        sampled = []
        for group, (start, stop) in enumerate(ALIGN_GROUPS):
            grid_x = xs + offsets[:, 2 * group]
            grid_y = ys + offsets[:, 2 * group + 1]
            grid = torch.stack([
                2 * grid_x / max(width - 1, 1) - 1,
                2 * grid_y / max(height - 1, 1) - 1
            ], -1)
            sampled.append(F.grid_sample(
                params[:, start:stop], grid, mode='bilinear',
                padding_mode='border', align_corners=True))
        sampled = torch.cat(sampled, 1)
        cos, sin = sampled[:, 4:5], sampled[:, 5:6]
        # Opposite doubled angles mixed about half and half leave a vector
        # near (0, 0), where the angle is undefined and the gradient of
        # atan2 (~ 1 / |v|) explodes: below |v| = 1e-3 the angle is 0,
        # without gradient.
        flat = cos.square() + sin.square() < 1e-6
        angle = torch.atan2(torch.where(flat, torch.zeros_like(sin), sin),
                            torch.where(flat, torch.ones_like(cos), cos)) / 2
        return torch.cat([sampled[:, :4], angle], 1)

    def forward_train(self,
                      x: Sequence[torch.Tensor],
                      img_metas: List[dict],
                      gt_bboxes: List[torch.Tensor],
                      gt_labels: List[torch.Tensor],
                      gt_bboxes_ignore: Optional[List[torch.Tensor]] = None,
                      guidance: Optional[Sequence[torch.Tensor]] = None
                      ) -> Dict[str, torch.Tensor]:
        """Forward and losses."""
        cls_scores, bbox_preds = self(x, guidance)
        return self.loss(cls_scores, bbox_preds, gt_bboxes, gt_labels,
                         img_metas, gt_bboxes_ignore=gt_bboxes_ignore)

    def flat_priors(self, featmap_sizes: Sequence[torch.Size],
                    dtype: torch.dtype, device: torch.device
                    ) -> Tuple[torch.Tensor, torch.Tensor, List[int]]:
        """Points (N, 2), ATSS prior boxes (N, 5) of all levels, and the
        number of locations per level."""
        points = self.prior_generator.grid_priors(featmap_sizes, dtype=dtype,
                                                  device=device)
        priors = torch.cat([
            torch.cat([p, p.new_full((len(p), 2), self.prior_scale * s),
                       p.new_zeros((len(p), 1))], 1)
            for p, s in zip(points, self.strides)
        ])
        return torch.cat(points), priors, [len(p) for p in points]

    def get_targets(self, points: torch.Tensor, priors: torch.Tensor,
                    num_level_priors: List[int], flat_scores: torch.Tensor,
                    flat_boxes: torch.Tensor, gt_bboxes: List[torch.Tensor],
                    gt_labels: List[torch.Tensor]
                    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                               torch.Tensor]:
        """Labels (B, N) (``num_classes``: background), qualities (B, N),
        GT boxes (B, N, 5) and box weights (B, N); see the class
        docstring."""
        num_imgs, num_points = flat_scores.shape[:2]
        labels = flat_scores.new_full((num_imgs, num_points),
                                      self.num_classes, dtype=torch.long)
        quality = flat_scores.new_zeros((num_imgs, num_points))
        targets = flat_scores.new_zeros((num_imgs, num_points, 5))
        weights = flat_scores.new_zeros((num_imgs, num_points))
        initial = self.in_initial_phase()
        overlap = self.assigner.iou_calculator
        for i in range(num_imgs):
            gts = gt_bboxes[i].to(flat_boxes.dtype)
            if initial:
                result = self.initial_assigner.assign(
                    priors, num_level_priors, gts, gt_labels[i])
            else:
                result = self.assigner.assign(
                    flat_scores[i].detach(), flat_boxes[i].detach(), points,
                    gts, gt_labels[i])
            positive = result.gt_inds > 0
            if not positive.any():
                continue
            gt_index = result.gt_inds[positive] - 1
            labels[i, positive] = result.labels[positive]
            targets[i, positive] = gts[gt_index]
            if initial:
                quality[i, positive] = overlap(
                    flat_boxes[i, positive].detach(), gts[gt_index],
                    is_aligned=True).to(quality.dtype).clamp(min=0)
                weights[i, positive] = 1.0
            else:
                metric = result.assign_metrics[positive]
                iou = result.max_overlaps[positive]
                num_gts = len(gts)
                max_metric = metric.new_zeros(num_gts).scatter_reduce(
                    0, gt_index, metric, 'amax')
                max_iou = iou.new_zeros(num_gts).scatter_reduce(
                    0, gt_index, iou, 'amax')
                normalised = metric / (max_metric[gt_index] + 1e-7) \
                    * max_iou[gt_index]
                quality[i, positive] = normalised
                # A GT whose positives all have t = 0 (the nearest-location
                # fallback of a tiny GT that no box overlaps yet) would get
                # no box gradient: its positives are regressed with weight 1.
                weights[i, positive] = torch.where(
                    max_metric[gt_index] > 0, normalised,
                    torch.ones_like(normalised))
        return labels, quality, targets, weights

    @force_fp32(apply_to=('cls_scores', 'bbox_preds'))
    def loss(self,
             cls_scores: List[torch.Tensor],
             bbox_preds: List[torch.Tensor],
             gt_bboxes: List[torch.Tensor],
             gt_labels: List[torch.Tensor],
             img_metas: List[dict],
             gt_bboxes_ignore: Optional[List[torch.Tensor]] = None
             ) -> Dict[str, torch.Tensor]:
        """Quality focal and box losses (class docstring)."""
        if gt_bboxes_ignore is not None and any(
                ignore.numel() for ignore in gt_bboxes_ignore):
            raise ValueError('RotatedTOODHead does not support ignored GTs')
        if self.assigner is None:
            raise RuntimeError('RotatedTOODHead needs train_cfg.assigner to '
                               'compute losses')
        featmap_sizes = [score.shape[-2:] for score in cls_scores]
        points, priors, num_level_priors = self.flat_priors(
            featmap_sizes, bbox_preds[0].dtype, bbox_preds[0].device)
        flat_scores = self._flatten(cls_scores)
        flat_boxes = self._flatten(bbox_preds)
        initial = self.in_initial_phase()
        labels, quality, targets, weights = self.get_targets(
            points, priors, num_level_priors, flat_scores, flat_boxes,
            gt_bboxes, gt_labels)
        if self.training:
            self.num_train_steps += 1
        labels, quality = labels.reshape(-1), quality.reshape(-1)
        positive = labels < self.num_classes
        num_pos = reduce_mean(positive.sum().to(flat_scores.dtype))
        cls_factor = num_pos if initial else reduce_mean(quality.sum())
        loss_cls = self.loss_cls(
            flat_scores.reshape(-1, self.num_classes), (labels, quality),
            avg_factor=max(float(cls_factor), 1.0))
        pos_boxes = flat_boxes.reshape(-1, 5)[positive]
        if pos_boxes.size(0) == 0:
            return dict(loss_cls=loss_cls, loss_bbox=pos_boxes.sum())
        pos_weights = weights.reshape(-1)[positive]
        bbox_factor = reduce_mean(pos_weights.sum())
        loss_bbox = self.loss_bbox(
            pos_boxes, targets.reshape(-1, 5)[positive], weight=pos_weights,
            avg_factor=max(float(bbox_factor), 1e-6))
        return dict(loss_cls=loss_cls, loss_bbox=loss_bbox)

    @staticmethod
    def _flatten(maps: Sequence[torch.Tensor]) -> torch.Tensor:
        """Per level (B, K, H, W) -> (B, sum H W, K)."""
        return torch.cat([
            m.permute(0, 2, 3, 1).reshape(m.size(0), -1, m.size(1))
            for m in maps
        ], 1)

    @force_fp32(apply_to=('cls_scores', 'bbox_preds'))
    def get_bboxes(self,
                   cls_scores: List[torch.Tensor],
                   bbox_preds: List[torch.Tensor],
                   img_metas: List[dict],
                   cfg: Optional[Dict] = None,
                   rescale: bool = False,
                   with_nms: bool = True) -> List[Tuple[torch.Tensor,
                                                        torch.Tensor]]:
        """Per image ``(dets (K, 6), labels (K,))`` after the level-wise
        ``nms_pre`` top-k, ``min_bbox_size`` (sides), ``score_thr`` and
        class-wise NMS (``test_cfg.nms``, rotated or Gaussian); boxes divided
        by the image's ``scale_factor`` with ``rescale``."""
        if not with_nms:
            raise ValueError('RotatedTOODHead.get_bboxes needs with_nms')
        cfg = cfg or self.test_cfg
        nms_pre = cfg.get('nms_pre', -1)
        # mmrotate's NMS reads attributes (nms.iou_thr).
        nms_cfg = ConfigDict(cfg['nms'])
        results = []
        for i, meta in enumerate(img_metas):
            level_boxes, level_scores = [], []
            for scores, boxes in zip(cls_scores, bbox_preds):
                scores = scores[i].permute(1, 2, 0).reshape(
                    -1, self.num_classes)
                boxes = boxes[i].permute(1, 2, 0).reshape(-1, 5)
                if 0 < nms_pre < scores.size(0):
                    top = scores.amax(1).topk(nms_pre).indices
                    scores, boxes = scores[top], boxes[top]
                level_scores.append(scores)
                level_boxes.append(boxes)
            boxes = torch.cat(level_boxes)
            scores = torch.cat(level_scores)
            min_size = cfg.get('min_bbox_size', 0)
            if min_size > 0:
                large = (boxes[:, 2] > min_size) & (boxes[:, 3] > min_size)
                boxes, scores = boxes[large], scores[large]
            if rescale:
                factor = boxes.new_tensor(meta['scale_factor'])
                boxes = torch.cat([boxes[:, :4] / factor, boxes[:, 4:]], 1)
            padded = torch.cat([scores, scores.new_zeros(len(scores), 1)], 1)
            dets, labels = multiclass_nms_rotated(
                boxes, padded, cfg.get('score_thr', 0.05), nms_cfg,
                cfg.get('max_per_img', -1))
            results.append((dets, labels))
        return results

    def aug_test(self, feats, img_metas, rescale=False):
        raise NotImplementedError('RotatedTOODHead has no test-time '
                                  'augmentation')


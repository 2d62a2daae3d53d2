"""AFMNet's mask estimation branch, made oriented (our design).

AFMNet (ICASSP 2025 submission) has two 1-channel mask predictors supervised
by binary "oval" masks of the boxes at strides 8 and 16 (precomputed
offline); its mask loss and how the masks act on the features are not
public. Ours: rotated-ellipse targets rendered online
(:func:`rotated_tod.core.bbox.ellipse_mask.ellipse_mask_targets`), binary
cross-entropy (+ optional Dice), and the predicted mask ``m`` re-weights the
feature of its level, ``x (1 + m)``.
"""
import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import PLUGIN_LAYERS, bias_init_with_prob, normal_init
from mmrotate.models.builder import build_loss
from torch import nn

from rotated_tod.core.bbox.ellipse_mask import MASK_MODES, ellipse_mask_targets


@PLUGIN_LAYERS.register_module()
class EllipseMaskBranch(nn.Module):
    """One 1-channel mask predictor per level of ``strides``.

    Per level: ``logit = conv1x1(relu(conv3x3(x)))`` (B, 1, H, W),
    ``m = sigmoid(logit)``, re-weighted feature ``x (1 + m)``. Losses against
    the ellipse targets of the GTs on the level's grid: ``loss_mask`` (BCE
    by default, averaged over pixels, then over levels) and optional
    ``loss_mask_dice``.

    Args:
        in_channels: channels of the levels' features.
        strides: strides of the levels with a predictor (AFMNet: 8, 16).
        feat_channels: width of the 3x3 conv.
        target: ``'binary'`` or ``'gaussian'`` targets.
        loss_mask: loss config (sigmoid BCE).
        loss_dice: optional Dice loss config (e.g. mmdet's ``DiceLoss``).
    """

    _abbr_ = 'ellipse_mask_branch'

    def __init__(self,
                 in_channels: int,
                 strides: Sequence[int] = (8, 16),
                 feat_channels: int = 64,
                 target: str = 'binary',
                 loss_mask: Optional[Dict] = None,
                 loss_dice: Optional[Dict] = None) -> None:
        super().__init__()
        if target not in MASK_MODES:
            raise ValueError(f'target must be one of {MASK_MODES}, got '
                             f'{target!r}')
        self.strides = [int(s) for s in strides]
        self.target = target
        self.predictors = nn.ModuleList([
            nn.Sequential(
                nn.Conv2d(in_channels, feat_channels, 3, padding=1),
                nn.ReLU(), nn.Conv2d(feat_channels, 1, 1))
            for _ in self.strides
        ])
        self.loss_mask = build_loss(loss_mask or dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0))
        self.loss_dice = None if loss_dice is None else build_loss(loss_dice)

    def init_weights(self) -> None:
        """Small weights; the mask starts near the prior 0.01."""
        for predictor in self.predictors:
            normal_init(predictor[0], std=0.01)
            normal_init(predictor[2], std=0.01,
                        bias=bias_init_with_prob(0.01))

    def forward(self, feats: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """feats: per stride of ``strides`` (B, C, H, W) -> mask logits
        (B, 1, H, W)."""
        if len(feats) != len(self.strides):
            raise ValueError(f'{len(feats)} features for strides '
                             f'{self.strides}')
        return [predictor(x) for predictor, x in zip(self.predictors, feats)]

    @staticmethod
    def reweight(feats: Sequence[torch.Tensor],
                 logits: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """``x (1 + sigmoid(logit))`` per level."""
        return [x * (1 + logit.sigmoid()) for x, logit in zip(feats, logits)]

    def guidance(self, logits: Sequence[torch.Tensor],
                 strides: Sequence[int],
                 sizes: Sequence[torch.Size]) -> List[torch.Tensor]:
        """Detached mask probabilities (B, H, W) for levels of any stride:
        the predicted mask of the nearest stride (in log scale) resized to
        the level's size, by max pooling to a coarser level (a small
        object's mask survives) and bilinearly to a finer one (ours: it lets
        the mining of every level, e.g. the stride-4 head's, use the
        masks)."""
        out = []
        for stride, size in zip(strides, sizes):
            nearest = min(range(len(self.strides)), key=lambda i: abs(
                math.log(self.strides[i] / stride)))
            prob = logits[nearest].detach().sigmoid()
            size = tuple(int(n) for n in size)
            if prob.shape[-2] > size[0] or prob.shape[-1] > size[1]:
                prob = F.adaptive_max_pool2d(prob, size)
            elif prob.shape[-2:] != size:
                prob = F.interpolate(prob, size=size, mode='bilinear',
                                     align_corners=False)
            out.append(prob[:, 0])
        return out

    def get_targets(self, logits: Sequence[torch.Tensor],
                    gt_bboxes: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Per level (B, 1, H, W) ellipse targets."""
        return [
            torch.stack([
                ellipse_mask_targets(gts.to(logit.dtype), logit.shape[-2:],
                                     stride, self.target)
                for gts in gt_bboxes
            ])[:, None]
            for logit, stride in zip(logits, self.strides)
        ]

    def loss(self, logits: Sequence[torch.Tensor],
             gt_bboxes: Sequence[torch.Tensor]) -> Dict[str, torch.Tensor]:
        """``loss_mask`` (and ``loss_mask_dice``) averaged over levels."""
        targets = self.get_targets(logits, gt_bboxes)
        losses = dict(loss_mask=sum(
            self.loss_mask(logit.reshape(-1), target.reshape(-1))
            for logit, target in zip(logits, targets)) / len(logits))
        if self.loss_dice is not None:
            losses['loss_mask_dice'] = sum(
                self.loss_dice(logit.flatten(1), target.flatten(1))
                for logit, target in zip(logits, targets)) / len(logits)
        return losses

"""AFMNet's RoI feature interaction (IRFI), our oriented design.

AFMNet (ICASSP 2025 submission) publishes only the switch ``with_irfi`` of its
stride-4 head; what the interaction computes is not public. Ours: the
top-scoring predicted boxes of an image (over all levels of a head) take
rotated RoI features (mmcv's ``roi_align_rotated``, which has a CPU kernel),
exchange information by multi-head self-attention
(:class:`TokenAttentionBlock`) and predict a score and a box correction
for each of those boxes; the other predictions are unchanged.
"""
import math
from typing import List, Sequence, Tuple

import torch
from mmcv.cnn import PLUGIN_LAYERS
from mmcv.ops import roi_align_rotated
from torch import nn

from ..utils.token_attention import TokenAttentionBlock

#: Probabilities are clamped to [EPS, 1 - EPS] before their logit is taken.
EPS = 1e-6
#: Bound of the log size corrections ``dw``, ``dh`` (mmdet's delta coders'
#: ``|ln(16 / 1000)|``): an unbounded ``exp`` overflows once training
#: diverges locally and turns every gradient into NaN.
MAX_LOG_RATIO = abs(math.log(16 / 1000))


@PLUGIN_LAYERS.register_module()
class RoIInteraction(nn.Module):
    r"""Self-attention among the RoIs of the top-scoring boxes.

    Per image, with the head's per-level probabilities ``p`` and decoded
    boxes ``b = (cx, cy, w, h, a)`` flattened over levels:

    1. the ``num_rois`` locations with the highest ``max_c p`` (detached);
    2. their RoI features: ``roi_align_rotated`` on the feature of the
       box's own level (``out_size`` x ``out_size``, scale ``1 / stride``,
       clockwise like mmrotate's rotated RoI extractors), flattened and
       projected to D, plus an embedding of the box geometry
       ``(cx / W_img, cy / H_img, ln(w / s), ln(h / s), cos 2a, sin 2a)``;
    3. ``num_blocks`` :class:`TokenAttentionBlock` over these tokens;
    4. outputs ``(ds_1..ds_C, dx, dy, dw, dh, da)`` (zero-initialised: the
       module starts as the identity) give
       ``p' = sigmoid(logit(p) + ds)`` and
       ``b' = (cx + dx w, cy + dy h, w e^dw, h e^dh, a + da)`` (after a
       final LayerNorm; ``dw``, ``dh`` clamped to ``+-MAX_LOG_RATIO``).

    The RoI features are differentiable in the feature maps (not in the
    boxes, which only place them); the refined boxes are differentiable in
    the original ones, so the head's losses train both.

    Args:
        in_channels: channels of the feature maps.
        num_classes: classes of the head.
        num_rois: boxes refined per image.
        embed_dims: D.
        out_size: RoI side in cells.
        num_heads, num_blocks, ffn_ratio: of the attention.
    """

    _abbr_ = 'roi_interaction'

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 num_rois: int = 100,
                 embed_dims: int = 256,
                 out_size: int = 7,
                 num_heads: int = 8,
                 num_blocks: int = 1,
                 ffn_ratio: float = 2.0) -> None:
        super().__init__()
        if num_rois < 1:
            raise ValueError(f'num_rois must be >= 1, got {num_rois}')
        self.num_rois = int(num_rois)
        self.out_size = int(out_size)
        self.num_classes = num_classes
        self.roi_embed = nn.Linear(in_channels * self.out_size**2, embed_dims)
        self.geometry_embed = nn.Linear(6, embed_dims)
        self.blocks = nn.ModuleList([
            TokenAttentionBlock(embed_dims, num_heads, ffn_ratio)
            for _ in range(num_blocks)
        ])
        self.norm = nn.LayerNorm(embed_dims)
        self.out = nn.Linear(embed_dims, num_classes + 5)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, feats: Sequence[torch.Tensor], strides: Sequence[int],
                cls_scores: List[torch.Tensor],
                bbox_preds: List[torch.Tensor]
                ) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        """Refine the head's outputs.

        Args:
            feats: per level (B, C_in, H_l, W_l) features.
            strides: per level stride.
            cls_scores: per level (B, num_classes, H_l, W_l) probabilities.
            bbox_preds: per level (B, 5, H_l, W_l) decoded boxes.

        Returns:
            cls_scores and bbox_preds of the same shapes.
        """
        sizes = [s.shape[-2:] for s in cls_scores]
        counts = [h * w for h, w in sizes]
        scores = torch.cat([s.flatten(2) for s in cls_scores], 2)
        boxes = torch.cat([b.flatten(2) for b in bbox_preds], 2)
        batch = scores.size(0)
        k = min(self.num_rois, scores.size(2))
        index = scores.detach().amax(1).topk(k, dim=1).indices  # (B, k)
        top_scores = scores.gather(
            2, index[:, None].expand(-1, scores.size(1), -1))
        top_boxes = boxes.gather(2, index[:, None].expand(-1, 5, -1))
        top_scores = top_scores.transpose(1, 2)  # (B, k, C)
        top_boxes = top_boxes.transpose(1, 2)  # (B, k, 5)
        bounds = torch.tensor(counts, device=index.device).cumsum(0)
        level = torch.bucketize(index, bounds, right=True)  # (B, k)
        level_stride = torch.tensor(
            [float(s) for s in strides], dtype=boxes.dtype,
            device=boxes.device)[level]

        rois = self._roi_features(feats, strides, top_boxes.detach(), level)
        image_h = sizes[0][0] * strides[0]
        image_w = sizes[0][1] * strides[0]
        geometry = torch.stack([
            top_boxes[..., 0] / image_w, top_boxes[..., 1] / image_h,
            torch.log(top_boxes[..., 2].clamp(min=EPS) / level_stride),
            torch.log(top_boxes[..., 3].clamp(min=EPS) / level_stride),
            torch.cos(2 * top_boxes[..., 4]), torch.sin(2 * top_boxes[..., 4])
        ], -1).detach()
        tokens = self.roi_embed(rois.reshape(batch, k, -1)) \
            + self.geometry_embed(geometry)
        for block in self.blocks:
            tokens = block(tokens)
        delta = self.out(self.norm(tokens))
        probs = top_scores.clamp(EPS, 1 - EPS)
        new_scores = torch.sigmoid(
            torch.log(probs) - torch.log1p(-probs) +
            delta[..., :self.num_classes])
        d = delta[..., self.num_classes:]
        log_size = d[..., 2:4].clamp(-MAX_LOG_RATIO, MAX_LOG_RATIO)
        new_boxes = torch.stack([
            top_boxes[..., 0] + d[..., 0] * top_boxes[..., 2],
            top_boxes[..., 1] + d[..., 1] * top_boxes[..., 3],
            top_boxes[..., 2] * log_size[..., 0].exp(),
            top_boxes[..., 3] * log_size[..., 1].exp(),
            top_boxes[..., 4] + d[..., 4]
        ], -1)
        scores = scores.scatter(
            2, index[:, None].expand(-1, scores.size(1), -1),
            new_scores.transpose(1, 2).to(scores.dtype))
        boxes = boxes.scatter(2, index[:, None].expand(-1, 5, -1),
                              new_boxes.transpose(1, 2).to(boxes.dtype))
        out_scores = [
            s.reshape(batch, -1, h, w)
            for s, (h, w) in zip(scores.split(counts, 2), sizes)
        ]
        out_boxes = [
            b.reshape(batch, 5, h, w)
            for b, (h, w) in zip(boxes.split(counts, 2), sizes)
        ]
        return out_scores, out_boxes

    def _roi_features(self, feats: Sequence[torch.Tensor],
                      strides: Sequence[int], boxes: torch.Tensor,
                      level: torch.Tensor) -> torch.Tensor:
        """(B, k, C, r, r) RoI features of boxes (B, k, 5) on their
        levels (B, k)."""
        if not torch.isfinite(boxes).all():
            raise FloatingPointError('non-finite boxes reach RoIInteraction '
                                     '(the head diverged)')
        batch, k = level.shape
        channels = feats[0].size(1)
        image = torch.arange(batch, device=boxes.device)[:, None].expand(
            batch, k)
        out = feats[0].new_zeros(
            (batch * k, channels, self.out_size, self.out_size))
        flat_level = level.reshape(-1)
        rois = torch.cat([image.reshape(-1, 1).to(boxes.dtype),
                          boxes.reshape(-1, 5)], 1).to(feats[0].dtype)
        for lvl, (feat, stride) in enumerate(zip(feats, strides)):
            members = (flat_level == lvl).nonzero(as_tuple=True)[0]
            if members.numel():
                out[members] = roi_align_rotated(
                    feat, rois[members], self.out_size, 1.0 / stride, 2,
                    True, True)
        return out.view(batch, k, channels, self.out_size, self.out_size)

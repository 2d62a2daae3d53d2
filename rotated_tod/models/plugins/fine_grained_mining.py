"""AFMNet's adaptive fine-grained feature mining (AFFM), our design.

AFMNet (ICASSP 2025 submission) publishes only the switch ``with_affm`` and
``k = 13`` on its stride-4 head; what the mining computes is not public.
Ours: per image and level, the ``k`` locations with the highest guidance
score (the estimated object mask times the best class score) are gathered,
attend to each other (:class:`TokenAttentionBlock`) and their updates are
written back residually into the feature map; every other location is
unchanged.
"""
from typing import Tuple

import torch
from mmcv.cnn import PLUGIN_LAYERS
from torch import nn

from ..utils.token_attention import TokenAttentionBlock


def gather_topk(feature: torch.Tensor, score: torch.Tensor,
                k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The features of the ``k`` highest-scoring locations of each image.

    Args:
        feature: (B, C, H, W).
        score: (B, H, W) (only its order matters; not differentiated).
        k: locations per image (at most ``H W`` are taken).

    Returns:
        tokens (B, k', C) in decreasing score order and their flat indices
        (B, k') into ``H W``, ``k' = min(k, H W)``.
    """
    batch, channels = feature.shape[:2]
    k = min(int(k), score[0].numel())
    index = score.detach().reshape(batch, -1).topk(k, dim=1).indices
    tokens = feature.reshape(batch, channels, -1).gather(
        2, index[:, None].expand(-1, channels, -1))
    return tokens.transpose(1, 2), index


def scatter_back(feature: torch.Tensor, index: torch.Tensor,
                 delta: torch.Tensor) -> torch.Tensor:
    """``feature`` with ``delta`` added at the gathered locations.

    Args:
        feature: (B, C, H, W).
        index: (B, k) flat indices from :func:`gather_topk` (distinct per
            image).
        delta: (B, k, C) updates.

    Returns:
        A new (B, C, H, W) tensor (differentiable in both inputs).
    """
    batch, channels = feature.shape[:2]
    flat = feature.reshape(batch, channels, -1).scatter_add(
        2, index[:, None].expand(-1, channels, -1), delta.transpose(1, 2))
    return flat.view_as(feature)


@PLUGIN_LAYERS.register_module()
class FineGrainedMining(nn.Module):
    """Top-k feature mining with self-attention, written back residually.

    For a level's feature ``x`` (B, C, H, W) and guidance ``g`` (B, H, W)::

        tokens, idx = top-k of x by g                  # (B, k, C)
        z = Block(tokens + Linear(p))                  # p: (x/W, y/H) of idx
        x' = x + scatter(idx, Linear_out(LN(z)))

    ``Linear_out`` starts at zero, so the module starts as the identity.

    Args:
        channels: C.
        topk: k (13 in AFMNet).
        num_heads: attention heads of the block.
        ffn_ratio: hidden width ratio of the block's FFN.
    """

    _abbr_ = 'fine_grained_mining'

    def __init__(self, channels: int, topk: int = 13, num_heads: int = 4,
                 ffn_ratio: float = 2.0) -> None:
        super().__init__()
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        self.topk = int(topk)
        self.position = nn.Linear(2, channels)
        self.block = TokenAttentionBlock(channels, num_heads, ffn_ratio)
        self.norm = nn.LayerNorm(channels)
        self.out = nn.Linear(channels, channels)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, feature: torch.Tensor,
                guidance: torch.Tensor) -> torch.Tensor:
        """feature (B, C, H, W), guidance (B, H, W) -> (B, C, H, W)."""
        height, width = feature.shape[-2:]
        tokens, index = gather_topk(feature, guidance, self.topk)
        positions = torch.stack([
            (index % width).to(feature.dtype) / max(width - 1, 1),
            torch.div(index, width, rounding_mode='floor').to(
                feature.dtype) / max(height - 1, 1)
        ], -1)
        mined = self.block(tokens + self.position(positions))
        return scatter_back(feature, index, self.out(self.norm(mined)))

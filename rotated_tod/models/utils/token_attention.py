"""A transformer block over an unordered set of feature tokens, shared by
AFMNet's fine-grained mining and RoI interaction (our design)."""
from typing import Optional

import torch
from torch import nn


class TokenAttentionBlock(nn.Module):
    """Pre-norm transformer block on ``(B, N, D)`` tokens::

        x = x + MHSA(LN(x))
        x = x + FFN(LN(x)),   FFN = Linear(D, r D) -> GELU -> Linear(r D, D)

    with ``nn.MultiheadAttention`` (``num_heads`` heads). No positional
    encoding is added here (callers add their own per-token embeddings), so
    the block is equivariant to permutations of its N tokens: permuting the
    inputs permutes the outputs alike.

    Args:
        embed_dims: D (divisible by ``num_heads``).
        num_heads: attention heads.
        ffn_ratio: r.
    """

    def __init__(self, embed_dims: int, num_heads: int = 4,
                 ffn_ratio: float = 2.0) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims {embed_dims} is not divisible by '
                             f'num_heads {num_heads}')
        hidden = int(embed_dims * ffn_ratio)
        self.norm_attn = nn.LayerNorm(embed_dims)
        self.attn = nn.MultiheadAttention(embed_dims, num_heads,
                                          batch_first=True)
        self.norm_ffn = nn.LayerNorm(embed_dims)
        self.ffn = nn.Sequential(
            nn.Linear(embed_dims, hidden), nn.GELU(),
            nn.Linear(hidden, embed_dims))

    def forward(self, tokens: torch.Tensor,
                padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """tokens (B, N, D); padding_mask (B, N), True for tokens to ignore
        as keys -> (B, N, D)."""
        normed = self.norm_attn(tokens)
        attended, _ = self.attn(normed, normed, normed,
                                key_padding_mask=padding_mask,
                                need_weights=False)
        tokens = tokens + attended
        return tokens + self.ffn(self.norm_ffn(tokens))

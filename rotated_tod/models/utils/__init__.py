from .sampled_deform_conv import (
                                  SampledDeformConv2d,
                                  deform_conv2d_sampled,
                                  sampled_deform_conv_like,
)
from .token_attention import TokenAttentionBlock

__all__ = [
    'TokenAttentionBlock', 'SampledDeformConv2d', 'deform_conv2d_sampled',
    'sampled_deform_conv_like'
]

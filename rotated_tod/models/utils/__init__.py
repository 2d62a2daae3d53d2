from .sampled_deform_conv import (
                                  SampledDeformConv2d,
                                  deform_conv2d_sampled,
                                  sampled_deform_conv_like,
)

__all__ = [
    'SampledDeformConv2d', 'deform_conv2d_sampled', 'sampled_deform_conv_like'
]

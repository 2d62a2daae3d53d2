"""FA2M, the Feature-Aware Alignment Module of FSANet (J. Wu, Z. Pan, B. Lei,
Y. Hu, "FSANet: Feature-and-Spatial-Aligned Network for Tiny Object Detection
in Remote Sensing Images", IEEE TGRS 2022): an FPN whose top-down pathway
aligns the coarse map before adding it.

With laterals ``L_l = GN(conv1x1(C_l))`` (no activation), top-down from the
highest used level ``M_top = L_top`` and ``M_l = FA(L_l, M_{l+1})``, outputs
``P_l = conv3x3(M_l)`` (no norm, no activation), where, for ``low``
(B, C, H, W) and ``high`` (B, C, h, w),

    up  = bilinear(high -> (H, W), align_corners=True)
    off = pw1x1(dw3x3(cat[low, up]))               (B, 2, H, W), no bias
    FA(low, high) = low + grid_sample(high, G + off / (W, H))

``G`` is the identity grid of the fine map in ``grid_sample``'s normalised
coordinates (``align_corners=True``: pixel ``j`` of ``W`` at
``-1 + 2 j / (W - 1)``), and ``off`` channel 0 moves x, channel 1 moves y.
The offsets are normalised by the fine size as in the paper's code: an
offset ``o`` moves the sample by ``o (w - 1) / (2 W)`` coarse pixels. With
zero offsets FA is bilinear upsampling plus addition. FA2M does not depend
on box orientation, so the oriented detector uses it as published.

Beyond the paper's three hard-wired levels (P3-P5) this neck takes
``start_level``, ``end_level`` and ``num_outs`` like mmdet's ``FPN`` (P2
allowed) and adds extra levels as that ``FPN`` does (``add_extra_convs``,
``relu_before_extra_convs``), so it replaces ``FPN`` in any detector.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmcv.runner import auto_fp16
from mmdet.models.necks import FPN
from mmrotate.models.builder import ROTATED_NECKS


def shift_sample(high: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """Sample the coarse map onto the fine grid shifted by ``offset``.

    Args:
        high: (B, C, h, w) coarse map.
        offset: (B, 2, H, W) offsets in fine pixels (x, y), normalised by the
            fine size ``(W, H)`` as in FSANet.

    Returns:
        (B, C, H, W): ``grid_sample(high, G + offset / (W, H))`` with
        ``align_corners=True`` and zero padding.
    """
    num, _, height, width = offset.shape
    ys = torch.linspace(-1.0, 1.0, height, dtype=offset.dtype,
                        device=offset.device)
    xs = torch.linspace(-1.0, 1.0, width, dtype=offset.dtype,
                        device=offset.device)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    grid = torch.stack([grid_x, grid_y], -1).expand(num, -1, -1, -1)
    norm = offset.new_tensor([width, height])
    grid = grid + offset.permute(0, 2, 3, 1) / norm
    return F.grid_sample(high, grid.to(high.dtype), mode='bilinear',
                         padding_mode='zeros', align_corners=True)


class FeatureAlign(nn.Module):
    """One FA step (module docstring): ``FA(low, high)``.

    Args:
        channels: C of both maps.
        kernel_size: side of the depthwise convolution (3 in the paper).
    """

    def __init__(self, channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.depthwise_conv = nn.Conv2d(
            2 * channels, 2 * channels, kernel_size,
            padding=(kernel_size - 1) // 2, groups=2 * channels, bias=False)
        self.pointwise_conv = nn.Conv2d(2 * channels, 2, 1, bias=False)

    def offset(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        """(B, 2, H, W) offset field predicted from ``cat[low, up(high)]``."""
        up = F.interpolate(high, size=low.shape[-2:], mode='bilinear',
                           align_corners=True)
        return self.pointwise_conv(
            self.depthwise_conv(torch.cat([low, up], 1)))

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        """``low`` (B, C, H, W), ``high`` (B, C, h, w) -> (B, C, H, W)."""
        return low + shift_sample(high, self.offset(low, high))


@ROTATED_NECKS.register_module()
class FeatureAlignFPN(FPN):
    """FA2M (module docstring): mmdet's ``FPN`` with GN laterals and
    feature-aligned top-down fusion.

    Args:
        in_channels, out_channels, num_outs, start_level, end_level,
        add_extra_convs, relu_before_extra_convs, conv_cfg, init_cfg: as
            mmdet's ``FPN`` (the output and extra convolutions have no norm
            and no activation); ``init_cfg`` defaults to Xavier-uniform on
            every ``Conv2d``, FA's included, as the paper's code.
        lateral_norm_cfg: norm of the 1x1 laterals (default GN with 32
            groups, as in the paper).
        align_kernel_size: side of FA's depthwise convolution.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: int,
                 num_outs: int,
                 start_level: int = 0,
                 end_level: int = -1,
                 add_extra_convs=False,
                 relu_before_extra_convs: bool = False,
                 lateral_norm_cfg: Optional[dict] = None,
                 align_kernel_size: int = 3,
                 conv_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if lateral_norm_cfg is None:
            lateral_norm_cfg = dict(type='GN', num_groups=32,
                                    requires_grad=True)
        if init_cfg is None:
            init_cfg = dict(type='Xavier', layer='Conv2d',
                            distribution='uniform')
        super().__init__(
            list(in_channels), out_channels, num_outs,
            start_level=start_level, end_level=end_level,
            add_extra_convs=add_extra_convs,
            relu_before_extra_convs=relu_before_extra_convs,
            conv_cfg=conv_cfg, norm_cfg=None, act_cfg=None,
            init_cfg=init_cfg)
        self.lateral_convs = nn.ModuleList([
            ConvModule(in_channels[i], out_channels, 1, conv_cfg=conv_cfg,
                       norm_cfg=lateral_norm_cfg, act_cfg=None,
                       inplace=False)
            for i in range(self.start_level, self.backbone_end_level)
        ])
        self.aligns = nn.ModuleList([
            FeatureAlign(out_channels, align_kernel_size)
            for _ in range(len(self.lateral_convs) - 1)
        ])

    @auto_fp16()
    def forward(self, inputs: Sequence[torch.Tensor]
                ) -> Tuple[torch.Tensor, ...]:
        """Backbone maps (one per ``in_channels``) -> ``num_outs`` maps
        (B, out_channels, H_l, W_l), finest first."""
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'expected {len(self.in_channels)} inputs, got '
                             f'{len(inputs)}')
        laterals: List[torch.Tensor] = [
            conv(inputs[i + self.start_level])
            for i, conv in enumerate(self.lateral_convs)
        ]
        merged = laterals[:]
        for i in range(len(merged) - 1, 0, -1):
            merged[i - 1] = self.aligns[i - 1](laterals[i - 1], merged[i])
        outs = [conv(m) for conv, m in zip(self.fpn_convs, merged)]
        return tuple(outs + self._extra_levels(inputs, laterals, outs))

    def _extra_levels(self, inputs: Sequence[torch.Tensor],
                      laterals: List[torch.Tensor],
                      outs: List[torch.Tensor]) -> List[torch.Tensor]:
        """Levels above the backbone's, as mmdet's ``FPN`` makes them."""
        used = len(outs)
        extra: List[torch.Tensor] = []
        if self.num_outs <= used:
            return extra
        if not self.add_extra_convs:
            last = outs[-1]
            for _ in range(self.num_outs - used):
                last = F.max_pool2d(last, 1, stride=2)
                extra.append(last)
            return extra
        source = dict(on_input=inputs[self.backbone_end_level - 1],
                      on_lateral=laterals[-1],
                      on_output=outs[-1])[self.add_extra_convs]
        extra.append(self.fpn_convs[used](source))
        for i in range(used + 1, self.num_outs):
            last = extra[-1]
            if self.relu_before_extra_convs:
                last = F.relu(last)
            extra.append(self.fpn_convs[i](last))
        return extra

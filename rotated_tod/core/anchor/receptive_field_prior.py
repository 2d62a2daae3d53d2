"""Gaussian receptive-field priors (RFLA, used by KLDet).

Every location of a pyramid level gets an isotropic prior box centred on it,
``(x, y, s_l, s_l, 0)`` with ``s_l = fraction * TRF(l)``, where ``TRF(l)`` is
the theoretical receptive field of the backbone feature feeding level ``l``.

The TRF is computed by walking the backbone's convolutions in order with the
standard recurrence (Araujo et al., "Computing receptive fields", Distill 2019)

    r <- r + (k - 1) * d * j,    j <- j * s

for a layer of kernel ``k``, dilation ``d`` and stride ``s``, starting from
``r = j = 1`` (``j`` is the jump, the input-pixel distance between adjacent
units). The 1x1 convolutions and the shortcut paths never widen the field, so
the main path of every residual block decides it. Levels beyond the last
backbone stage (P6, P7) are chained stride-2 3x3 convolutions. The FPN's own
lateral and output convolutions are not counted (the RFLA convention), so
P2..P5 get the TRF of C2..C5.

RFLA's published table for ResNet-50 (35, 91, 267, 427, 555, 811 for P2..P7)
agrees with this walk for P2..P5; for P6 and P7 it widens each extra 3x3 conv
by ``2 x`` its *output* jump instead of its input jump (555 and 811 instead of
491 and 619). ``extra_conv_jump='output'`` reproduces that table.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.core.anchor.point_generator import MlvlPointGenerator
from mmrotate.core.anchor.builder import ROTATED_ANCHOR_GENERATORS

# (kernel, stride, dilation) of one convolution or pooling layer.
Layer = Tuple[int, int, int]

RESNET_TYPES = ('ResNet', 'ResNetV1d')


def resnet_layers(depth: int,
                  num_stages: int = 4,
                  strides: Sequence[int] = (1, 2, 2, 2),
                  dilations: Sequence[int] = (1, 1, 1, 1),
                  style: str = 'pytorch',
                  deep_stem: bool = False) -> List[List[Layer]]:
    """The main-path layers of an mmdet ``ResNet``, grouped by stage.

    Returns ``num_stages + 1`` lists: the stem (conv 7x7/2 or the deep stem's
    three 3x3 convs, then max-pool 3x3/2), then each stage. In a stage's first
    block the stride sits on the 3x3 conv (``style='pytorch'``) or on the first
    1x1 conv (``'caffe'``); a stage's dilation applies to its 3x3 convs, except
    the second conv of a ``BasicBlock`` (mmdet builds it undilated).
    """
    from mmdet.models.backbones.resnet import BasicBlock, ResNet
    if depth not in ResNet.arch_settings:
        raise ValueError(f'no ResNet of depth {depth}; known depths: '
                         f'{sorted(ResNet.arch_settings)}')
    if style not in ('pytorch', 'caffe'):
        raise ValueError(f"style must be 'pytorch' or 'caffe', got {style!r}")
    if not 1 <= num_stages <= 4:
        raise ValueError(f'num_stages must be in 1..4, got {num_stages}')
    if len(strides) < num_stages or len(dilations) < num_stages:
        raise ValueError(f'need {num_stages} strides and dilations, got '
                         f'{tuple(strides)} and {tuple(dilations)}')
    block, stage_blocks = ResNet.arch_settings[depth]
    stem = ([(3, 2, 1), (3, 1, 1), (3, 1, 1)] if deep_stem else [(7, 2, 1)])
    stages = [stem + [(3, 2, 1)]]
    for num_blocks, stage_stride, dilation in zip(stage_blocks[:num_stages],
                                                  strides, dilations):
        layers = []
        for index in range(num_blocks):
            stride = stage_stride if index == 0 else 1
            if block is BasicBlock:
                layers += [(3, stride, dilation), (3, 1, 1)]
            elif style == 'pytorch':
                layers += [(1, 1, 1), (3, stride, dilation), (1, 1, 1)]
            else:
                layers += [(1, stride, 1), (3, 1, dilation), (1, 1, 1)]
        stages.append(layers)
    return stages


def walk_receptive_field(layers: Sequence[Layer], field: int = 1,
                         jump: int = 1) -> Tuple[int, int]:
    """``(field, jump)`` after ``layers``, from ``(field, jump)`` before them.

    ``field <- field + (k - 1) * d * jump``, ``jump <- jump * s`` per layer.
    """
    for kernel, stride, dilation in layers:
        field += (kernel - 1) * dilation * jump
        jump *= stride
    return field, jump


def backbone_receptive_fields(backbone: Dict) -> List[Tuple[int, int]]:
    """``(stride, TRF)`` of each stage output (C2, C3, ...) of a ResNet.

    Args:
        backbone: an mmdet backbone config, ``type`` 'ResNet' or 'ResNetV1d'
            (the keys ``depth``, ``num_stages``, ``strides``, ``dilations``,
            ``style``, ``deep_stem`` are read; the others do not change the
            receptive field).
    """
    kind = backbone.get('type', 'ResNet')
    if kind not in RESNET_TYPES:
        raise ValueError(f'receptive fields are computed for {RESNET_TYPES} '
                         f'backbones, got type={kind!r}')
    if 'depth' not in backbone:
        raise ValueError('the backbone config has no depth')
    stages = resnet_layers(
        backbone['depth'],
        num_stages=backbone.get('num_stages', 4),
        strides=backbone.get('strides', (1, 2, 2, 2)),
        dilations=backbone.get('dilations', (1, 1, 1, 1)),
        style=backbone.get('style', 'pytorch'),
        deep_stem=backbone.get('deep_stem', kind == 'ResNetV1d'))
    field, jump = walk_receptive_field(stages[0])
    outputs = []
    for layers in stages[1:]:
        field, jump = walk_receptive_field(layers, field, jump)
        outputs.append((jump, field))
    return outputs


def level_receptive_fields(level_strides: Sequence[int], backbone: Dict,
                           extra_conv_jump: str = 'input') -> List[int]:
    """TRF of each pyramid level, given the levels' strides.

    A level whose stride is the output stride of a backbone stage gets that
    stage's TRF (the deepest such stage when dilation repeats a stride). A
    level with a larger stride is reached from the last stage by stride-2
    3x3 convs (FPN's extra levels), each widening the field by
    ``2 x jump`` with the jump of its input (``extra_conv_jump='input'``,
    the exact walk) or of its output (``'output'``, RFLA's table).
    """
    if extra_conv_jump not in ('input', 'output'):
        raise ValueError("extra_conv_jump must be 'input' or 'output', got "
                         f'{extra_conv_jump!r}')
    stage_fields = backbone_receptive_fields(backbone)
    by_stride = dict(stage_fields)
    last_stride, last_field = stage_fields[-1]
    fields = []
    for stride in level_strides:
        if stride in by_stride:
            fields.append(by_stride[stride])
            continue
        field, jump = last_field, last_stride
        while jump < stride:
            step = jump * 2 if extra_conv_jump == 'output' else jump
            field, jump = field + 2 * step, jump * 2
        if jump != stride:
            raise ValueError(
                f'level stride {stride} is neither a backbone stage stride '
                f'{sorted(by_stride)} nor reachable from {last_stride} by '
                'stride-2 convs')
        fields.append(field)
    return fields


@ROTATED_ANCHOR_GENERATORS.register_module()
class ReceptiveFieldPriorGenerator(MlvlPointGenerator):
    """Point generator that also yields receptive-field prior boxes.

    ``grid_priors`` is mmdet's ``MlvlPointGenerator.grid_priors`` (points
    ``((x + offset) * stride, (y + offset) * stride)``), so any point-based
    head can use it in place of ``MlvlPointGenerator``; ``grid_rf_priors``
    returns the isotropic boxes ``(x, y, s_l, s_l, 0)``,
    ``s_l = fraction * TRF(l)``, on the same points.

    Args:
        strides: stride of each level (e.g. (4, 8, 16, 32, 64) for P2-P6).
        backbone: the detector's backbone config (see
            :func:`backbone_receptive_fields`); ``KLDet`` fills it in.
        fraction: prior side over TRF (0.5 in RFLA and KLDet).
        offset: point offset in the cell, as in ``MlvlPointGenerator``.
        extra_conv_jump: see :func:`level_receptive_fields`.
    """

    def __init__(self,
                 strides: Sequence[int],
                 backbone: Optional[Dict] = None,
                 fraction: float = 0.5,
                 offset: float = 0.5,
                 extra_conv_jump: str = 'input') -> None:
        super().__init__(strides, offset=offset)
        if backbone is None:
            raise ValueError(
                'ReceptiveFieldPriorGenerator needs the backbone config to '
                'compute receptive fields (KLDet passes its own backbone)')
        if not fraction > 0:
            raise ValueError(f'fraction must be positive, got {fraction}')
        self.fraction = fraction
        self.receptive_fields = level_receptive_fields(
            [s[0] for s in self.strides], backbone, extra_conv_jump)
        self.prior_sizes = [fraction * r for r in self.receptive_fields]

    def grid_rf_priors(self,
                       featmap_sizes: Sequence[Tuple[int, int]],
                       dtype: torch.dtype = torch.float32,
                       device='cpu') -> List[torch.Tensor]:
        """Per level, the (H_l * W_l, 5) prior boxes ``(x, y, s, s, 0)``."""
        points = self.grid_priors(featmap_sizes, dtype=dtype, device=device)
        priors = []
        for level_points, size in zip(points, self.prior_sizes):
            sides = level_points.new_full((level_points.size(0), 2), size)
            angles = level_points.new_zeros((level_points.size(0), 1))
            priors.append(torch.cat([level_points, sides, angles], dim=1))
        return priors

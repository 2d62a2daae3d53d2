"""Receptive-field anchors for (oriented) RPNs: RFLA's priors with aspect
ratios (C. Xu et al., "RFLA: Gaussian Receptive Field based Label Assignment
for Tiny Object Detection", ECCV 2022; the RPN of SWIN-TOD).

Level ``l`` gets, at every location, one horizontal anchor per ratio ``r``
of area ``s_l^2`` with ``s_l = fraction * TRF(l)``::

    w = s_l / sqrt(r),   h = s_l * sqrt(r)

where ``TRF(l)`` is the theoretical receptive field of the backbone feature
feeding level ``l``, computed from the backbone config by
:func:`~rotated_tod.core.anchor.receptive_field_prior.level_receptive_fields`.
Anchors are mmdet's ``(x1, y1, x2, y2)``, as Oriented R-CNN's RPN expects.
"""
from typing import Dict, Optional, Sequence

from mmdet.core.anchor import AnchorGenerator
from mmrotate.core.anchor.builder import ROTATED_ANCHOR_GENERATORS

from .receptive_field_prior import level_receptive_fields


@ROTATED_ANCHOR_GENERATORS.register_module()
class ReceptiveFieldAnchorGenerator(AnchorGenerator):
    """mmdet's ``AnchorGenerator`` with base sizes ``fraction * TRF`` per
    level and a single scale.

    Args:
        strides: stride of each level (e.g. (4, 8, 16, 32, 64) for P2-P6).
        backbone: the detector's backbone config; the
            ``ReceptiveField*`` detectors fill it in from their own backbone.
        ratios: ``h / w`` of the anchors (0.5, 1, 2 in RFLA).
        fraction: anchor side over TRF (0.5 in RFLA).
        center_offset: as in ``AnchorGenerator`` (0: centres on ``k * stride``).
        extra_conv_jump: see ``level_receptive_fields``.
    """

    def __init__(self,
                 strides: Sequence[int],
                 backbone: Optional[Dict] = None,
                 ratios: Sequence[float] = (0.5, 1.0, 2.0),
                 fraction: float = 0.5,
                 center_offset: float = 0.0,
                 extra_conv_jump: str = 'input') -> None:
        if backbone is None:
            raise ValueError(
                'ReceptiveFieldAnchorGenerator needs the backbone config to '
                'compute receptive fields (the ReceptiveField* detectors '
                'pass their own backbone)')
        if not fraction > 0:
            raise ValueError(f'fraction must be positive, got {fraction}')
        self.fraction = fraction
        self.receptive_fields = level_receptive_fields(
            list(strides), backbone, extra_conv_jump)
        super().__init__(
            strides=list(strides),
            ratios=list(ratios),
            scales=[1.0],
            base_sizes=[fraction * field for field in self.receptive_fields],
            center_offset=center_offset)

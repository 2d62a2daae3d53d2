"""KLDet's task-level attention (TlA): a dynamic ReLU driven by the level's
global context."""
from typing import Dict, Sequence

import torch
from mmcv.cnn import PLUGIN_LAYERS
from mmdet.models.utils import DyReLU


@PLUGIN_LAYERS.register_module()
class TaskLevelAttention(DyReLU):
    """Dynamic-ReLU task attention (DyHead's task-aware attention).

    For x of shape (B, C, H, W)::

        theta = hsigmoid(conv1x1(relu(conv1x1(GAP(x))))) - 0.5   # (B, 4C)
        a1 = 2 theta_1 + 1,  b1 = theta_2,  a2 = 2 theta_3,  b2 = theta_4
        y = max(a1 * x + b1, a2 * x + b2)                         # (B, C, H, W)

    with ``hsigmoid(z) = clamp((z + 3) / 6, 0, 1)`` and the convs
    ``C -> C / ratio -> 4C`` (with biases). This is mmdet's ``DyReLU``
    (reused, not copied); registered here as a plugin so heads build it from a
    config. One instance is applied to every pyramid level (weights shared
    across levels, the pooling per level). At zero weights and biases
    ``theta = 0`` and the module is a ReLU.

    Args:
        channels: C.
        ratio: squeeze ratio of the first conv (4 in KLDet).
    """

    _abbr_ = 'task_level_attention'

    def __init__(self,
                 channels: int,
                 ratio: int = 4,
                 act_cfg: Sequence[Dict] = (dict(type='ReLU'),
                                            dict(type='HSigmoid', bias=3.0,
                                                 divisor=6.0)),
                 init_cfg=None) -> None:
        if channels % ratio:
            raise ValueError(
                f'channels ({channels}) must be divisible by ratio ({ratio})')
        super().__init__(channels, ratio=ratio, act_cfg=act_cfg,
                         init_cfg=init_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        if x.dim() != 4 or x.size(1) != self.channels:
            raise ValueError(f'expected (B, {self.channels}, H, W), got '
                             f'{tuple(x.shape)}')
        return super().forward(x)

"""Signed side distances for points that may lie outside their box.

Used by our oriented KLDet head ("KLDet: Detecting Tiny Objects in Remote
Sensing Images via Kullback-Leibler Divergence"), whose KLD assignment may
make a location outside a tiny box positive. The signed decoding is our
design, not the paper's.
"""
from typing import Optional, Union

import torch
from mmdet.core.bbox.coder.base_bbox_coder import BaseBBoxCoder
from mmrotate.core.bbox.builder import ROTATED_BBOX_CODERS, build_bbox_coder


@ROTATED_BBOX_CODERS.register_module()
class SignedDistanceDecoder(BaseBBoxCoder):
    """Decodes signed side distances with a wrapped distance-angle coder.

    A positive location of a tiny object may lie outside its box, so the
    distances ``(l, t, r, b)`` to the sides (in the box frame) are signed. The
    sides sit at ``-l`` and ``+r`` from the point along the box's x axis, so
    the box is centred at ``(r - l) / 2`` with width ``|l + r|`` (same for
    y): the wrapped coder gives the centre and angle, and the sizes are made
    ``max(|l + r|, min_size)``. Encoding is the wrapped coder's, whose
    distances are already signed for outside points.

    Args:
        coder: the distance-angle coder (an instance or a config, e.g.
            ``dict(type='DistanceAnglePointCoder', angle_version='le90')``).
        min_size: smallest decoded side, in pixels.
    """

    def __init__(self, coder: Union[dict, BaseBBoxCoder],
                 min_size: float = 1e-2) -> None:
        super().__init__()
        self.coder = build_bbox_coder(coder) if isinstance(coder,
                                                           dict) else coder
        self.min_size = min_size

    def encode(self, points: torch.Tensor, gt_bboxes: torch.Tensor,
               *args, **kwargs) -> torch.Tensor:
        """points (N, 2), boxes (N, 5) -> (N, 5) ``(l, t, r, b, theta)``."""
        return self.coder.encode(points, gt_bboxes, *args, **kwargs)

    def decode(self, points: torch.Tensor, distances: torch.Tensor,
               max_shape: Optional[tuple] = None) -> torch.Tensor:
        """points (N, 2), distances (N, 5) ``(l, t, r, b, theta)`` -> (N, 5)."""
        boxes = self.coder.decode(points, distances, max_shape=max_shape)
        sizes = boxes[:, 2:4].abs().clamp(min=self.min_size)
        return torch.cat([boxes[:, :2], sizes, boxes[:, 4:]], dim=1)

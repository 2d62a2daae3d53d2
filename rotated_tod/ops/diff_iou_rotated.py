"""Differentiable IoU of rotated boxes, exact on any device.

mmcv's ``diff_iou_rotated_2d`` (behind mmrotate's ``RotatedIoULoss``) builds
the intersection polygon from corners and edge crossings and orders its
vertices with a compiled CUDA kernel, so it cannot run on the CPU. Here the
intersection is obtained by clipping the corners of one box by the edges of
the other (Sutherland-Hodgman, :mod:`.polygon_clip`), which needs no sorting:

    IoU = |A ∩ B| / max(w_a h_a + w_b h_b - |A ∩ B|, eps)

with the boxes ``(x, y, w, h, theta)`` (theta in radians, counter-clockwise
in the x-right / y-down image frame as mmcv's ``box2corners``) and
``eps = finfo(dtype).eps``. The value equals the polygon IoU up to rounding
(touching, nested, identical and thin boxes included) and the gradient is
the exact derivative wherever the IoU is differentiable. ``|A ∩ B|`` is
bounded by both box areas, so degenerate (zero width or height) boxes give
an IoU of 0 with finite gradients.
"""
import torch

from .polygon_clip import intersection_area

# Corner offsets in box units, counter-clockwise (mmcv's box2corners order).
_CORNERS = ((0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5), (0.5, -0.5))


def box_corners(boxes: torch.Tensor) -> torch.Tensor:
    """(..., 5) ``xywha`` boxes -> (..., 4, 2) corners."""
    unit = boxes.new_tensor(_CORNERS)
    x, y, w, h, theta = boxes.unbind(-1)
    local_x = unit[:, 0] * w[..., None]
    local_y = unit[:, 1] * h[..., None]
    cos, sin = torch.cos(theta)[..., None], torch.sin(theta)[..., None]
    return torch.stack([local_x * cos - local_y * sin + x[..., None],
                        local_x * sin + local_y * cos + y[..., None]], -1)


def diff_iou_rotated_2d(box1: torch.Tensor, box2: torch.Tensor) -> torch.Tensor:
    """IoU of paired rotated boxes, differentiable.

    Args:
        box1, box2: (..., 5) ``xywha`` boxes of the same shape (mmcv's op
            takes (B, N, 5)).

    Returns:
        (...) IoU of each pair, in [0, 1].
    """
    if box1.shape != box2.shape or box1.shape[-1] != 5:
        raise ValueError(f'expected two (..., 5) tensors of one shape, got '
                         f'{tuple(box1.shape)} and {tuple(box2.shape)}')
    shape = box1.shape[:-1]
    box1, box2 = box1.reshape(-1, 5), box2.reshape(-1, 5)
    four = torch.full((box1.shape[0], ), 4, dtype=torch.long,
                      device=box1.device)
    inter = intersection_area(box_corners(box1), four, box_corners(box2), four)
    area1 = box1[:, 2] * box1[:, 3]
    area2 = box2[:, 2] * box2[:, 3]
    inter = torch.minimum(inter, torch.minimum(area1, area2))
    eps = torch.finfo(inter.dtype).eps
    union = (area1 + area2 - inter).clamp(min=eps)
    return (inter / union).reshape(shape)

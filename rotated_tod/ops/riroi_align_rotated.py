"""Rotation-invariant RoI align of ReDet (Han et al., "ReDet: A
Rotation-equivariant Detector for Aerial Object Detection", CVPR 2021),
mmcv's ``RiRoIAlignRotated``, as differentiable tensor operations.

Features come from a rotation-equivariant backbone: ``C * O`` channels, ``O``
orientation channels per feature channel. For a RoI ``(b, x, y, w, h,
theta)`` (in image pixels; ``w, h`` scaled by ``spatial_scale`` and clamped
to >= 1 like mmcv), each of the ``PH x PW`` bins averages ``gh x gw``
bilinear samples (``gh = num_samples`` or ``ceil(h / PH)`` when 0) at

    (x, y) + R(theta) (-w/2 + (pw + (ix + .5) / gw) w / PW,
                       -h/2 + (ph + (iy + .5) / gh) h / PH)

(``theta`` negated when ``clockwise``), with mmcv's bilinear rule (0 outside
``[-1, W] x [-1, H]``, clamped to the border inside). The orientation
channels are then cyclically shifted by ``theta`` so that output orientation
``o`` reads input orientations ``r = (o - floor(t)) mod O`` and ``r + 1``
with weights ``1 - frac(t)`` and ``frac(t)``, ``t = theta O / (2 pi)``.
The gradient with respect to the features (the only one mmcv's kernel
returns) is autograd's, the exact adjoint of this linear map.
"""
import math
from typing import Tuple, Union

import torch
import torch.nn.functional as F

#: Samples (RoIs x bins x samples per bin) gathered at once.
SAMPLES_PER_CHUNK = 1 << 14


def _bilinear(features: torch.Tensor, batch_index: torch.Tensor,
              x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """mmcv's ``bilinear_interpolate`` of (B, C, H, W) features at the
    points ``x, y`` (R, S) of RoIs in images ``batch_index`` (R,):
    (R, S, C).

    mmcv clamps a point in ``[-1, H] x [-1, W]`` to ``[0, H-1] x [0, W-1]``
    and returns 0 beyond: ``grid_sample`` with ``padding_mode='border'``
    and ``align_corners=True`` (pixel ``k`` at ``2k / (H-1) - 1``) clamps
    the same way, and the mask zeroes the rest.
    """
    height, width = features.shape[-2:]
    inside = (y >= -1) & (y <= height) & (x >= -1) & (x <= width)
    grid = torch.stack([2 * x / max(width - 1, 1) - 1,
                        2 * y / max(height - 1, 1) - 1], -1)
    out = features.new_zeros((*x.shape, features.shape[1]))
    for image in batch_index.unique().tolist():
        rows = (batch_index == image).nonzero(as_tuple=True)[0]
        sampled = F.grid_sample(features[image:image + 1],
                                grid[rows].reshape(1, -1, 1, 2),
                                mode='bilinear', padding_mode='border',
                                align_corners=True)  # (1, C, R_b * S, 1)
        out[rows] = sampled[0, :, :, 0].t().reshape(len(rows), x.shape[1], -1)
    return out * inside[..., None].to(out.dtype)


def riroi_align_rotated(features: torch.Tensor,
                        rois: torch.Tensor,
                        out_size: Union[int, Tuple[int, int]],
                        spatial_scale: float,
                        num_samples: int = 0,
                        num_orientations: int = 8,
                        clockwise: bool = False) -> torch.Tensor:
    """Rotation-invariant rotated RoI align (mmcv's argument order).

    Args:
        features: (B, C * O, H, W) features, ``O = num_orientations``.
        rois: (n, 6) ``batch_index, x, y, w, h, theta`` (radians).
        out_size: ``PH`` (= ``PW``) or ``(PH, PW)``.
        spatial_scale: image-to-feature scale.
        num_samples: samples per bin side (0: ``ceil`` of the bin size).
        num_orientations: ``O``.
        clockwise: the angles turn clockwise in image space.

    Returns:
        (n, C * O, PH, PW).
    """
    if isinstance(out_size, int):
        out_h = out_w = out_size
    else:
        out_h, out_w = out_size
    num_rois = rois.shape[0]
    channels = features.shape[1]
    if channels % num_orientations:
        raise ValueError(f'{channels} channels are not a multiple of '
                         f'num_orientations={num_orientations}')
    if num_rois == 0:
        return features.new_zeros((0, channels, out_h, out_w))
    rois = rois.detach().to(features.dtype)
    batch_index = rois[:, 0].long()
    cx, cy = rois[:, 1] * spatial_scale, rois[:, 2] * spatial_scale
    roi_w = (rois[:, 3] * spatial_scale).clamp(min=1)
    roi_h = (rois[:, 4] * spatial_scale).clamp(min=1)
    theta = rois[:, 5]
    if num_samples > 0:
        grid_h = torch.full_like(batch_index, num_samples)
        grid_w = torch.full_like(batch_index, num_samples)
    else:
        grid_h = torch.ceil(roi_h / out_h).long()
        grid_w = torch.ceil(roi_w / out_w).long()
    angle = -theta if clockwise else theta
    cos, sin = torch.cos(angle), torch.sin(angle)
    bins = out_h * out_w
    max_h, max_w = int(grid_h.max()), int(grid_w.max())
    # Sample (iy, ix) of bin (ph, pw), padded to the largest grid.
    ph = torch.arange(out_h, device=features.device).repeat_interleave(out_w)
    pw = torch.arange(out_w, device=features.device).repeat(out_h)
    iy = torch.arange(max_h, device=features.device).repeat_interleave(max_w)
    ix = torch.arange(max_w, device=features.device).repeat(max_h)
    pooled = []
    rois_per_chunk = max(1, SAMPLES_PER_CHUNK // (bins * max_h * max_w))
    for start in range(0, num_rois, rois_per_chunk):
        part = slice(start, start + rois_per_chunk)
        gh = grid_h[part, None, None].to(features.dtype)
        gw = grid_w[part, None, None].to(features.dtype)
        bin_h = (roi_h[part] / out_h)[:, None, None]
        bin_w = (roi_w[part] / out_w)[:, None, None]
        yy = (-roi_h[part, None, None] / 2 + ph[None, :, None] * bin_h +
              (iy[None, None] + 0.5) * bin_h / gh)
        xx = (-roi_w[part, None, None] / 2 + pw[None, :, None] * bin_w +
              (ix[None, None] + 0.5) * bin_w / gw)
        c, s = cos[part, None, None], sin[part, None, None]
        y = yy * c - xx * s + cy[part, None, None]
        x = yy * s + xx * c + cx[part, None, None]
        used = ((iy[None, None] < grid_h[part, None, None]) &
                (ix[None, None] < grid_w[part, None, None])).to(
                    features.dtype)
        values = _bilinear(features, batch_index[part],
                           x.reshape(len(x), -1),
                           y.reshape(len(y), -1)).reshape(*y.shape, channels)
        count = (gh * gw).clamp(min=1)[..., None]
        pooled.append((values * used[..., None]).sum(2) / count[:, :, 0])
    pooled = torch.cat(pooled)  # (n, PH * PW, C * O)
    pooled = pooled.reshape(num_rois, bins, channels // num_orientations,
                            num_orientations)
    turns = theta * num_orientations / (2 * math.pi)
    shift = torch.floor(turns)
    right = (turns - shift).to(features.dtype)[:, None, None, None]
    orientation = torch.arange(num_orientations, device=features.device)
    source = (orientation[None] - shift.long()[:, None]) % num_orientations
    index = source[:, None, None].expand_as(pooled)
    low = torch.gather(pooled, 3, index)
    high = torch.gather(pooled, 3, (index + 1) % num_orientations)
    out = (1 - right) * low + right * high
    return out.reshape(num_rois, out_h, out_w, channels).permute(0, 3, 1, 2)

"""Fusing the detections of several heads of one detector (AFMNet's main and
stride-4 heads) by class-wise rotated NMS."""
from typing import Mapping, Sequence, Tuple

import torch

from .nms import rotated_nms


def fuse_head_detections(detections: Sequence[Tuple[torch.Tensor,
                                                    torch.Tensor]],
                         nms_cfg: Mapping,
                         max_num: int = -1
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Merge per-head detections of one image.

    The boxes of all heads are pooled and, class by class, suppressed by
    :func:`rotated_nms` (rotated IoU or a Gaussian similarity, by
    ``nms_cfg['type']``), so a box found by two heads is kept once, with
    the higher score.

    Args:
        detections: per head ``(dets (K_h, 6) xywha + score, labels
            (K_h,))``.
        nms_cfg: NMS config, e.g. ``dict(iou_thr=0.1)``.
        max_num: keep at most this many boxes (all if <= 0).

    Returns:
        dets (K, 6) and labels (K,), by decreasing score.
    """
    if not detections:
        raise ValueError('no detections to fuse')
    dets = torch.cat([d for d, _ in detections])
    labels = torch.cat([lab for _, lab in detections])
    keep = []
    for label in labels.unique():
        members = (labels == label).nonzero(as_tuple=True)[0]
        _, kept = rotated_nms(dets[members, :5], dets[members, 5], nms_cfg)
        keep.append(members[kept])
    if not keep:
        return dets[:0], labels[:0]
    keep = torch.cat(keep)
    keep = keep[torch.sort(dets[keep, 5], descending=True, stable=True)[1]]
    if max_num > 0:
        keep = keep[:max_num]
    return dets[keep], labels[keep]

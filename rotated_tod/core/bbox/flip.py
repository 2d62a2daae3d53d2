"""Flips of rotated boxes for any angle convention."""
from typing import Sequence

import torch

from .transforms import regularize_rboxes

FLIP_DIRECTIONS = ('horizontal', 'vertical', 'diagonal')


def flip_rboxes(boxes: torch.Tensor, img_shape: Sequence[int],
                direction: str, version: str) -> torch.Tensor:
    """(N, 5) boxes of an ``(H, W, ...)`` image -> the boxes of the image
    flipped in ``direction``, in the convention ``version``.

    Pixel ``x`` goes to ``W - 1 - x`` (mmrotate's ``RRandomFlip``), so a
    flip is its own inverse and maps a flipped view's boxes back. A mirror
    (horizontal: ``x``; vertical: ``y``) turns the angle to ``-theta``; the
    diagonal flip, both mirrors, is a half turn and keeps it. mmrotate's
    ``bbox_flip`` (used by ``bbox_mapping_back``) instead applies the ``oc``
    rule ``theta -> pi/2 - theta`` with swapped sides to every direction:
    right for horizontal and vertical flips in ``oc`` only, and a different
    rectangle for the diagonal flip.
    """
    if direction not in FLIP_DIRECTIONS:
        raise ValueError(f'flip direction must be one of {FLIP_DIRECTIONS}, '
                         f'got {direction!r}')
    height, width = img_shape[:2]
    flipped = boxes.clone()
    if direction in ('horizontal', 'diagonal'):
        flipped[:, 0] = width - 1 - boxes[:, 0]
    if direction in ('vertical', 'diagonal'):
        flipped[:, 1] = height - 1 - boxes[:, 1]
    if direction != 'diagonal':
        flipped[:, 4] = -boxes[:, 4]
    return regularize_rboxes(flipped, version)

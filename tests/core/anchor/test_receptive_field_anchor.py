"""Receptive-field anchors: base sizes from the backbone's TRF, ratios."""
import math

import pytest
import torch
from mmrotate.core.anchor.builder import build_prior_generator

import rotated_tod  # noqa: F401  (registers the generator)

R50 = dict(type='ResNet', depth=50)


def test_base_sizes_are_half_the_receptive_fields():
    generator = build_prior_generator(
        dict(type='ReceptiveFieldAnchorGenerator', strides=[4, 8, 16, 32, 64],
             backbone=R50))
    # ResNet-50 TRFs of C2..C5 (35, 91, 267, 427) and P6 = 427 + 2 x 32.
    assert generator.receptive_fields == [35, 91, 267, 427, 491]
    assert generator.base_sizes == [17.5, 45.5, 133.5, 213.5, 245.5]
    assert generator.num_base_anchors == [3] * 5
    r18 = build_prior_generator(
        dict(type='ReceptiveFieldAnchorGenerator', strides=[4, 8],
             backbone=dict(type='ResNet', depth=18), fraction=0.25))
    assert r18.base_sizes == [43 / 4, 99 / 4]


def test_anchor_shapes_per_ratio():
    generator = build_prior_generator(
        dict(type='ReceptiveFieldAnchorGenerator', strides=[4, 8],
             backbone=R50, ratios=[0.5, 1.0, 2.0]))
    anchors = generator.grid_priors([(2, 3), (1, 2)], device='cpu')
    assert [a.shape for a in anchors] == [(18, 4), (6, 4)]
    first = anchors[0][:3]
    w = first[:, 2] - first[:, 0]
    h = first[:, 3] - first[:, 1]
    side = 17.5
    torch.testing.assert_close(
        w, torch.tensor([side / math.sqrt(r) for r in (0.5, 1.0, 2.0)]))
    torch.testing.assert_close(h / w, torch.tensor([0.5, 1.0, 2.0]))
    # Centred on k * stride (center_offset 0, as mmdet's RPN anchors).
    centres = (anchors[0][:, :2] + anchors[0][:, 2:]) / 2
    torch.testing.assert_close(centres[3 * 4], torch.tensor([4.0, 4.0]))


def test_needs_a_backbone():
    with pytest.raises(ValueError, match='backbone'):
        build_prior_generator(
            dict(type='ReceptiveFieldAnchorGenerator', strides=[4]))

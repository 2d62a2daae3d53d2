"""KLDet gives its head the receptive fields of its own backbone."""
import pytest
import torch
from mmrotate.models import build_detector

from rotated_tod.core.anchor import level_receptive_fields
from tests.models.dense_heads.test_kldet_head import CONFIGS, tiny_config

STRIDES = [4, 8, 16, 32, 64]


def test_priors_follow_the_backbone_config():
    cfg = tiny_config(CONFIGS[0])
    head = build_detector(cfg.model).bbox_head
    # tiny_config made the backbone a ResNet-18 (the config says 50).
    expected = level_receptive_fields(STRIDES, dict(type='ResNet', depth=18))
    assert head.prior_generator.receptive_fields == expected
    assert head.prior_generator.prior_sizes == [0.5 * r for r in expected]
    assert expected != level_receptive_fields(
        STRIDES, dict(type='ResNet', depth=50))
    # The config itself is left as it was.
    assert 'backbone' not in cfg.model.bbox_head


def test_an_explicit_head_backbone_wins():
    cfg = tiny_config(CONFIGS[0])
    cfg.model.bbox_head.backbone = dict(type='ResNet', depth=101)
    head = build_detector(cfg.model).bbox_head
    assert head.prior_generator.receptive_fields == level_receptive_fields(
        STRIDES, dict(type='ResNet', depth=101))


def test_a_head_is_required():
    cfg = tiny_config(CONFIGS[0])
    cfg.model.bbox_head = None
    with pytest.raises(ValueError, match='bbox_head'):
        build_detector(cfg.model)


def test_forward_dummy_shapes():
    model = build_detector(tiny_config(CONFIGS[0]).model)
    cls_scores, distances, angles, centerness = model.forward_dummy(
        torch.zeros(1, 3, 64, 64))
    assert [tuple(c.shape[-2:]) for c in cls_scores] == [
        (16, 16), (8, 8), (4, 4), (2, 2), (1, 1)]
    assert distances[0].shape[1] == 4 and angles[0].shape[1] == 1
    assert centerness[0].shape[1] == 1

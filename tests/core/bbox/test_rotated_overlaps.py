import pytest
import torch
from mmrotate.core.bbox.iou_calculators.rotate_iou2d_calculator import rbbox_overlaps

from rotated_tod.core.bbox.rotated_overlaps import (
    SparseRBboxOverlaps2D,
    rbbox_overlaps_sparse,
)


def boxes(n, seed, size=(4, 60), extent=200):
    g = torch.Generator().manual_seed(seed)
    b = torch.rand(n, 5, generator=g, dtype=torch.float64)
    return torch.stack([
        b[:, 0] * extent, b[:, 1] * extent,
        size[0] + b[:, 2] * (size[1] - size[0]),
        size[0] + b[:, 3] * (size[1] - size[0]), (b[:, 4] - 0.5) * 3.1
    ], 1).float()


@pytest.mark.parametrize('mode', ['iou', 'iof'])
def test_equals_dense_rotated_iou(mode):
    a, b = boxes(700, 0), boxes(40, 1)
    sparse = rbbox_overlaps_sparse(a, b, mode)
    dense = rbbox_overlaps(a, b, mode)
    assert (sparse > 0).sum() > 50
    assert torch.allclose(sparse, dense, atol=1e-6)


def test_blocks_do_not_change_the_result(monkeypatch):
    import rotated_tod.core.bbox.rotated_overlaps as module
    a, b = boxes(300, 2), boxes(30, 3)
    full = rbbox_overlaps_sparse(a, b)
    monkeypatch.setattr(module, 'PAIRS_PER_BLOCK', 7)
    assert torch.equal(rbbox_overlaps_sparse(a, b), full)


def test_aligned_empty_and_scores():
    a, b = boxes(10, 4), boxes(10, 5)
    calc = SparseRBboxOverlaps2D()
    assert torch.allclose(calc(a, b, is_aligned=True),
                          rbbox_overlaps(a, b, is_aligned=True).flatten())
    with_scores = torch.cat([a, torch.rand(10, 1)], 1)
    assert torch.allclose(calc(with_scores, b), calc(a, b))
    assert calc(a[:0], b).shape == (0, 10)
    assert calc(a, b[:0]).shape == (10, 0)
    with pytest.raises(ValueError):
        calc(a[:, :4], b)
    with pytest.raises(ValueError):
        rbbox_overlaps_sparse(a, b[:3], is_aligned=True)


def test_touching_enclosing_boxes_are_zero():
    a = torch.tensor([[0., 0, 10, 10, 0]])
    b = torch.tensor([[10., 0, 10, 10, 0], [5., 0, 10, 10, 0]])
    out = rbbox_overlaps_sparse(a, b)
    assert out[0, 0] == 0 and out[0, 1] == pytest.approx(1 / 3, abs=1e-5)

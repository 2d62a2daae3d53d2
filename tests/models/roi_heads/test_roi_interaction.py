"""RoI interaction: identity at initialisation, the refinement formula, the
level of each RoI, and gradients on the CPU."""
import math

import pytest
import torch

from rotated_tod.models.roi_heads import RoIInteraction


def inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    strides = [8, 16]
    feats = [torch.randn(2, 4, 8, 8, generator=g),
             torch.randn(2, 4, 4, 4, generator=g)]
    scores = [torch.rand(2, 3, 8, 8, generator=g) * 0.9 + 0.05,
              torch.rand(2, 3, 4, 4, generator=g) * 0.9 + 0.05]
    boxes = []
    for size in (8, 4):
        b = torch.rand(2, 5, size, size, generator=g)
        b[:, :2] *= 64
        b[:, 2:4] = b[:, 2:4] * 20 + 4
        b[:, 4] = b[:, 4] * 3 - 1.5
        boxes.append(b)
    return feats, strides, scores, boxes


def test_identity_at_initialisation():
    feats, strides, scores, boxes = inputs()
    module = RoIInteraction(4, 3, num_rois=10, embed_dims=8, out_size=3,
                            num_heads=2)
    out_scores, out_boxes = module(feats, strides, scores, boxes)
    for a, b in zip(out_scores + out_boxes, scores + boxes):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_refinement_formula_on_the_top_boxes_only():
    feats, strides, scores, boxes = inputs()
    module = RoIInteraction(4, 3, num_rois=5, embed_dims=8, out_size=3,
                            num_heads=2)
    delta = torch.tensor([0.5, -1.0, 0.0, 0.1, -0.2, math.log(2), 0.0, 0.3])
    module.out.bias.data.copy_(delta)
    out_scores, out_boxes = module(feats, strides, scores, boxes)
    flat = torch.cat([s.flatten(2) for s in scores], 2)
    flat_boxes = torch.cat([b.flatten(2) for b in boxes], 2)
    new = torch.cat([s.flatten(2) for s in out_scores], 2)
    new_boxes = torch.cat([b.flatten(2) for b in out_boxes], 2)
    for i in range(2):
        top = flat[i].amax(0).topk(5).indices
        rest = torch.ones(flat.size(2), dtype=torch.bool)
        rest[top] = False
        torch.testing.assert_close(new[i][:, rest], flat[i][:, rest])
        torch.testing.assert_close(new_boxes[i][:, rest],
                                   flat_boxes[i][:, rest])
        p = flat[i][:, top]
        expected = torch.sigmoid(torch.log(p / (1 - p)) + delta[:3, None])
        torch.testing.assert_close(new[i][:, top], expected)
        cx, cy, w, h, a = flat_boxes[i][:, top]
        torch.testing.assert_close(
            new_boxes[i][:, top],
            torch.stack([cx + 0.1 * w, cy - 0.2 * h, 2 * w, h, a + 0.3]))


def test_size_corrections_are_bounded():
    feats, strides, scores, boxes = inputs()
    module = RoIInteraction(4, 3, num_rois=5, embed_dims=8, out_size=3,
                            num_heads=2)
    module.out.bias.data[3 + 2] = 1e3  # dw: exp would overflow
    _, out_boxes = module(feats, strides, scores, boxes)
    ratio = torch.cat([b[:, 2].flatten(1) for b in out_boxes], 1) / \
        torch.cat([b[:, 2].flatten(1) for b in boxes], 1)
    assert torch.isfinite(ratio).all()
    assert ratio.max().item() == pytest.approx(1000 / 16, rel=1e-4)


def test_rois_are_read_on_their_own_level_and_train():
    feats, strides, scores, boxes = inputs()
    const = [torch.full_like(f, float(lvl + 1)) for lvl, f in
             enumerate(feats)]
    module = RoIInteraction(4, 3, num_rois=30, embed_dims=8, out_size=2,
                            num_heads=2)
    top_boxes = torch.tensor([[[30.0, 30.0, 8.0, 8.0, 0.2]] * 2] * 2)
    level = torch.tensor([[0, 1], [1, 0]])
    rois = module._roi_features(const, strides, top_boxes, level)
    # Bilinear sampling of a constant map inside the map gives the constant.
    assert torch.allclose(rois[0, 0], torch.ones(1))
    assert torch.allclose(rois[0, 1], torch.full((1, ), 2.0))
    assert torch.allclose(rois[1, 0], torch.full((1, ), 2.0))
    feats = [f.requires_grad_() for f in feats]
    torch.nn.init.normal_(module.out.weight)
    out_scores, out_boxes = module(feats, strides, scores, boxes)
    (sum(s.sum() for s in out_scores) +
     sum(b.sum() for b in out_boxes)).backward()
    assert all(f.grad is not None and f.grad.abs().sum() > 0 for f in feats)

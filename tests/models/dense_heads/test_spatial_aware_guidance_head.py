"""Oriented SAGH: the assignment on hand-built rotated cases, its rotation
equivariance, the Gaussian centerness, the offsets, the deformable path
against mmcv's kernel, and a loss / test pass."""
import math

import pytest
import torch
from mmcv import ConfigDict
from mmcv.ops import deform_conv2d
from mmrotate.models.dense_heads import RotatedFCOSHead

from rotated_tod.models.dense_heads import SpatialAwareGuidanceHead
from rotated_tod.models.dense_heads.spatial_aware_guidance_head import (
    assign_centres,
    gaussian_centerness,
)

INF = 1e8
GN4 = dict(type='GN', num_groups=4, requires_grad=True)


def make_head(**kwargs) -> SpatialAwareGuidanceHead:
    torch.manual_seed(0)
    options = dict(num_classes=3, in_channels=8, feat_channels=8,
                   stacked_convs=1, norm_cfg=GN4,
                   loss_bbox=dict(type='RotatedIoULoss', loss_weight=1.0),
                   loss_bbox_coarse=dict(type='RotatedIoULoss',
                                         loss_weight=0.2),
                   test_cfg=ConfigDict(nms_pre=100, min_bbox_size=0,
                                       score_thr=0.0, nms=dict(iou_thr=0.5),
                                       max_per_img=50))
    options.update(kwargs)
    head = SpatialAwareGuidanceHead(**options)
    head.init_weights()
    return head


def test_assignment_of_hand_built_rotated_cases():
    # A 40 x 10 box at 45 degrees: its axis runs along (1, 1)/sqrt(2).
    gt = torch.tensor([[50., 50., 40., 10., math.pi / 4]])
    labels = torch.tensor([2])
    u = torch.tensor([1., 1.]) / math.sqrt(2)
    n = torch.tensor([-1., 1.]) / math.sqrt(2)
    c = gt[0, :2]
    centres = torch.stack([
        c,               # centre: largest distance 20
        c + 15 * u,      # along the axis: largest 20 + 15 = 35
        c + 4 * n,       # across, inside (h/2 = 5): largest 20
        c + 6 * n,       # across, outside
        c + 19 * u + 19 * n,  # in the horizontal hull, outside the box
        c - 21 * u,      # beyond the short side
    ])
    wide = torch.tensor([[-1., 64.]]).expand(6, 2)
    got, inds = assign_centres(centres, wide, gt, labels, num_classes=3)
    assert got.tolist() == [2, 2, 2, 3, 3, 3]
    assert inds[:3].tolist() == [0, 0, 0]
    # Range on the largest GT-frame distance: only the point 15 px along the
    # axis (35 px from the far side) falls in [32, 64].
    upper = torch.tensor([[32., 64.]]).expand(6, 2)
    got, _ = assign_centres(centres, upper, gt, labels, num_classes=3)
    assert got.tolist() == [3, 2, 3, 3, 3, 3]


def test_assignment_prefers_the_smallest_gt_and_handles_no_gt():
    gts = torch.tensor([[30., 30., 40., 40., 0.3],
                        [30., 30., 12., 6., -1.0]])
    labels = torch.tensor([0, 1])
    centres = torch.tensor([[30., 30.], [30., 45.]])
    ranges = torch.tensor([[-1., INF]]).expand(2, 2)
    got, inds = assign_centres(centres, ranges, gts, labels, num_classes=2)
    assert got.tolist() == [1, 0] and inds.tolist() == [1, 0]
    got, _ = assign_centres(centres, ranges, gts[:0], labels[:0],
                            num_classes=2)
    assert got.tolist() == [2, 2]


def test_coarse_assignment_equals_mmrotate_rotated_fcos():
    # An independent implementation of the same rule on grid points.
    torch.manual_seed(1)
    strides = (8, 16, 32)
    ranges = ((-1, 24), (24, 48), (48, INF))
    head = make_head(strides=strides, regress_ranges=ranges)
    fcos = RotatedFCOSHead(3, 8, strides=strides, regress_ranges=ranges,
                           norm_cfg=GN4)
    sizes = [(8, 8), (4, 4), (2, 2)]
    points = head.prior_generator.grid_priors(sizes, dtype=torch.float32,
                                              device='cpu')
    gts = [torch.cat([torch.rand(6, 2) * 64, torch.rand(6, 2) * 50 + 4,
                      (torch.rand(6, 1) - 0.5) * math.pi], 1)]
    labels = [torch.randint(0, 3, (6, ))]
    expected = torch.cat(fcos.get_targets(points, gts, labels)[0])
    refined = torch.rand(1, sum(h * w for h, w in sizes), 5)
    coarse_labels, _, _, _ = head.get_sagh_targets(points, refined, gts,
                                                   labels)
    assert (expected < 3).sum() > 5
    assert torch.equal(coarse_labels[0], expected)


def test_refined_assignment_uses_the_predicted_centre_and_grid_targets():
    head = make_head(strides=(8, ), regress_ranges=((-1, INF), ))
    points = head.prior_generator.grid_priors([(4, 4)], dtype=torch.float64,
                                              device='cpu')
    # A 10 x 6 box at 30 degrees around (16, 16), between the grid points
    # (4 + 8i, 4 + 8j): it covers none of them.
    gt = torch.tensor([[16., 16., 10., 6., math.pi / 6]], dtype=torch.float64)
    refined = torch.zeros(1, 16, 5, dtype=torch.float64)
    refined[..., :4] = 1.0  # boxes centred on their points
    # The point (12, 12) (index 5) predicts a 2 x 2 box centred on (16, 16):
    # negative l and t are allowed.
    refined[0, 5] = torch.tensor([-3., -3., 5., 5., 0.],
                                 dtype=torch.float64)
    coarse_labels, _, refined_labels, refined_gts = head.get_sagh_targets(
        points, refined, [gt], [torch.tensor([1])])
    assert (coarse_labels == 3).all()
    assert refined_labels[0].tolist() == [3] * 5 + [1] + [3] * 10
    assert torch.equal(refined_gts[0, 5], gt[0])
    # Targets are measured from the grid point (12, 12): its Gaussian
    # centerness in the GT, below exp(-1) as it lies outside the box.
    weight = gaussian_centerness(points[0][5:6], gt)
    dx, dy = 12 - 16., 12 - 16.
    cos, sin = math.cos(math.pi / 6), math.sin(math.pi / 6)
    along, across = dx * cos + dy * sin, -dx * sin + dy * cos
    expected = math.exp(-4 * (along / 10) ** 2 - 4 * (across / 6) ** 2)
    assert weight.item() == pytest.approx(expected, rel=1e-12)
    assert expected < math.exp(-1)


def test_gaussian_centerness_closed_form():
    boxes = torch.tensor([[10., 20., 8., 4., 0.],
                          [10., 20., 8., 4., 0.],
                          [10., 20., 8., 4., math.pi / 2]],
                         dtype=torch.float64)
    points = torch.tensor([[10., 20.], [14., 20.], [10., 24.]],
                          dtype=torch.float64)
    # Centre: 1; on the end of the long side: exp(-1); the same point
    # rotated with the box.
    got = gaussian_centerness(points, boxes)
    assert torch.allclose(got, torch.tensor(
        [1., math.exp(-1), math.exp(-1)], dtype=torch.float64))


def _rot90(maps):
    """Rotate (B, C, H, W) maps a quarter turn: pixel (x, y) -> (y, W-1-x)."""
    return torch.rot90(maps, 1, (2, 3))


@pytest.mark.parametrize('seed', [0, 1])
def test_targets_rotate_with_the_input(seed):
    # Rotating image, boxes and predictions by 90 degrees maps every point
    # (x, y) -> (y, S - x) and every angle a -> a - pi/2: labels and target
    # boxes must follow the points.
    torch.manual_seed(seed)
    size, strides = 64, (8, 16, 32)
    head = make_head(strides=strides,
                     regress_ranges=((-1, 16), (16, 32), (32, INF)))
    sides = [size // s for s in strides]
    points = head.prior_generator.grid_priors(
        [(s, s) for s in sides], dtype=torch.float64, device='cpu')
    dist = [torch.rand(1, 4, s, s, dtype=torch.float64) * 20 + 1
            for s in sides]
    angle = [(torch.rand(1, 1, s, s, dtype=torch.float64) - 0.5) * 3
             for s in sides]
    gts = torch.cat([torch.rand(8, 2, dtype=torch.float64) * 48 + 8,
                     torch.rand(8, 2, dtype=torch.float64) * 30 + 4,
                     (torch.rand(8, 1, dtype=torch.float64) - 0.5) * 3], 1)
    labels = torch.randint(0, 3, (8, ))

    def targets(dist, angle, gts):
        flat = torch.cat([
            torch.cat([d, a], 1).permute(0, 2, 3, 1).reshape(1, -1, 5)
            for d, a in zip(dist, angle)
        ], 1)
        return head.get_sagh_targets(points, flat, [gts], [labels])

    def to_maps(values):
        """(1, N, C) over all levels -> per level (1, C, h, w)."""
        out, start = [], 0
        for s in sides:
            out.append(values[:, start:start + s * s].reshape(
                1, s, s, -1).permute(0, 3, 1, 2))
            start += s * s
        return out

    before = targets(dist, angle, gts)
    rotated_gts = torch.stack([gts[:, 1], size - gts[:, 0], gts[:, 2],
                               gts[:, 3], gts[:, 4] - math.pi / 2], 1)
    after = targets([_rot90(d) for d in dist],
                    [_rot90(a) - math.pi / 2 for a in angle], rotated_gts)
    for kind in (0, 2):  # coarse, refined
        old_labels = to_maps(before[kind][..., None].double())
        new_labels = to_maps(after[kind][..., None].double())
        assert sum(int((m < 3).sum()) for m in old_labels) > 3
        for old, new in zip(old_labels, new_labels):
            assert torch.equal(_rot90(old), new)
        positive = torch.cat([_rot90(m).flatten() for m in old_labels]) < 3
        old_boxes = torch.cat([_rot90(m).permute(0, 2, 3, 1).reshape(-1, 5)
                               for m in to_maps(before[kind + 1])])
        new_boxes = after[kind + 1][0]
        expected = torch.stack([
            old_boxes[:, 1], size - old_boxes[:, 0], old_boxes[:, 2],
            old_boxes[:, 3], old_boxes[:, 4] - math.pi / 2], 1)
        assert torch.allclose(new_boxes[positive], expected[positive],
                              atol=1e-9)


def test_deformable_path_equals_mmcv_kernel_value_and_gradient():
    head = make_head()
    conv = head.cls_align
    assert conv.deform_groups == 4
    torch.manual_seed(4)
    x = torch.randn(2, 8, 6, 7, requires_grad=True)
    offset = (torch.randn(2, 72, 6, 7) * 2).requires_grad_()
    got = conv(x, offset)
    grads = torch.autograd.grad(got.square().sum(), (x, offset, conv.weight))
    expected = deform_conv2d(x, offset, conv.weight, 1, 1, 1, 1, 4)
    ref_grads = torch.autograd.grad(expected.square().sum(),
                                    (x, offset, conv.weight))
    # float32 sums of 8 x 9 products: 1e-4 / 1e-3 as the op's own tests.
    assert torch.allclose(got, expected, atol=1e-4)
    for g, e in zip(grads, ref_grads):
        assert torch.allclose(g, e, atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize('detach', [False, True])
def test_learned_offsets_come_from_the_raw_coarse_output(detach):
    head = make_head(detach_offset_input=detach)
    assert head.offset_conv.in_channels == 5
    assert head.offset_conv.out_channels == 2 * 9 * 4
    assert head.offset_conv.bias is None
    assert head.offset_conv.weight.std().item() == pytest.approx(0.01,
                                                                 rel=0.3)
    feats = [torch.randn(1, 8, 8, 8)]
    cls_scores = head(feats)[0]
    cls_scores[0].sum().backward()
    # The classification output reaches the coarse box branch only through
    # the offsets.
    grad = head.conv_reg_coarse.weight.grad
    if detach:
        assert grad is None or grad.abs().sum() == 0
    else:
        assert grad.abs().sum() > 0


def test_geometric_offsets_place_the_grid_on_the_coarse_box():
    head = make_head(offset_mode='geometric', strides=(8, ),
                     regress_ranges=((-1, INF), ))
    # A box of 3 x 3 cells centred on its point is the plain 3x3 grid: zero
    # offsets; a 6 x 6 cells box is the grid dilated by 2.
    dist = torch.full((1, 4, 5, 6), 1.5 * 8)
    angle = torch.zeros(1, 1, 5, 6)
    offset = head._offsets(None, None, dist, angle, 8, 0)
    assert offset.shape == (1, 72, 5, 6)
    assert torch.allclose(offset, torch.zeros_like(offset), atol=1e-5)
    offset = head._offsets(None, None, dist * 2, angle, 8, 0)
    ky, kx = torch.meshgrid(torch.arange(-1., 2.), torch.arange(-1., 2.),
                            indexing='ij')
    kernel = torch.stack([ky.flatten(), kx.flatten()], 1).flatten()
    expected = kernel.repeat(4).view(1, 72, 1, 1).expand_as(offset)
    assert torch.allclose(offset, expected, atol=1e-5)


@pytest.mark.parametrize('box_loss', ['RotatedIoULoss', 'KLDLoss'])
def test_loss_backward_and_test_outputs(box_loss):
    # -ln IoU (the paper's) or a Gaussian loss; soft-NMS at test time.
    head = make_head(
        strides=(8, 16), regress_ranges=((-1, 24), (24, INF)),
        loss_bbox=dict(type=box_loss, loss_weight=1.0),
        loss_bbox_coarse=dict(type=box_loss, loss_weight=0.2),
        test_cfg=ConfigDict(nms_pre=100, min_bbox_size=0, score_thr=0.0,
                            nms=dict(type='soft_rotated', iou_thr=0.5),
                            max_per_img=50))
    torch.manual_seed(5)
    feats = [torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)]
    outs = head(feats)
    assert len(outs) == 6
    assert outs[0][0].shape == (2, 3, 8, 8)
    assert outs[1][0].shape == (2, 4, 8, 8)
    assert outs[2][0].shape == (2, 1, 8, 8)
    assert outs[3][0].shape == (2, 1, 8, 8)
    assert (outs[4][0] > 0).all()
    gts = [torch.tensor([[20., 20., 16., 8., 0.5], [40., 44., 30., 12., -1.]]),
           torch.tensor([[30., 30., 10., 10., 0.]])]
    labels = [torch.tensor([0, 2]), torch.tensor([1])]
    metas = [dict(img_shape=(64, 64, 3), scale_factor=1.0)] * 2
    seen = []
    assign = head.get_sagh_targets

    def spy(points, refined, *args):
        seen.append(refined)
        return assign(points, refined, *args)

    head.get_sagh_targets = spy
    losses = head.loss(*outs, gts, labels, metas)
    # The refined self-assignment judges the refined predictions.
    expected = torch.cat([
        torch.cat([d, a], 1).permute(0, 2, 3, 1).reshape(2, -1, 5)
        for d, a in zip(outs[1], outs[2])
    ], 1)
    assert len(seen) == 1 and torch.equal(seen[0], expected)
    assert set(losses) == {'loss_cls', 'loss_bbox', 'loss_bbox_coarse',
                           'loss_centerness'}
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['loss_bbox_coarse'] > 0
    sum(losses.values()).backward()
    assert head.conv_reg_coarse.weight.grad.abs().sum() > 0
    head.eval()
    with torch.no_grad():
        results = head.get_bboxes(*head(feats), metas)
    assert len(results) == 2
    boxes, det_labels = results[0]
    assert boxes.shape[1] == 6 and boxes.shape[0] == det_labels.shape[0] > 0


def test_images_without_objects():
    head = make_head(strides=(8, 16), regress_ranges=((-1, 24), (24, INF)))
    feats = [torch.randn(2, 8, 8, 8), torch.randn(2, 8, 4, 4)]
    metas = [dict(img_shape=(64, 64, 3))] * 2
    none = (torch.zeros(0, 5), torch.zeros(0, dtype=torch.long))
    one = (torch.tensor([[30., 30., 10., 10., 0.]]), torch.tensor([1]))
    for (gt0, label0), (gt1, label1) in ((none, one), (none, none)):
        losses = head.loss(*head(feats), [gt0, gt1], [label0, label1], metas)
        assert all(torch.isfinite(v) for v in losses.values())
        sum(losses.values()).backward()
        if gt1.numel() == 0:
            # Only the classification loss (all background) remains.
            assert losses['loss_cls'] > 0
            assert losses['loss_bbox'] == losses['loss_bbox_coarse'] == 0
        else:
            assert losses['loss_bbox_coarse'] > 0


def test_rejects_what_sagh_does_not_do():
    with pytest.raises(ValueError, match='offset_mode'):
        make_head(offset_mode='random')
    with pytest.raises(ValueError, match='norm_on_bbox'):
        make_head(norm_on_bbox=True)
    with pytest.raises(ValueError, match='regress ranges'):
        make_head(strides=(8, 16), regress_ranges=((-1, INF), ))

"""Tests of rotated_nms (rotated IoU / Gaussian similarity / soft-NMS) and
of the mmrotate-compatible multiclass_nms_rotated (its installation into
mmrotate's heads is tested in tests/test_compat.py)."""
import math

import numpy as np
import pytest
import torch
from mmcv import ConfigDict
from mmcv.ops import nms_rotated, soft_nms
from mmrotate.core.post_processing import bbox_nms_rotated

import rotated_tod  # noqa: F401
from rotated_tod.core.bbox.gaussian import gaussian_similarity
from rotated_tod.core.post_processing import nms as nms_module
from rotated_tod.core.post_processing.nms import (
    multiclass_nms_rotated,
    rotated_nms,
    soft_rotated_nms,
)


def random_dets(n, seed, spread=60.0):
    rng = np.random.default_rng(seed)
    boxes = np.stack([
        rng.uniform(0, spread, n), rng.uniform(0, spread, n),
        rng.uniform(2, 20, n), rng.uniform(2, 10, n),
        rng.uniform(-math.pi / 2, math.pi / 2, n)
    ], 1)
    scores = rng.permutation(n) / n + 0.01  # distinct scores
    return (torch.from_numpy(boxes).float(),
            torch.from_numpy(scores).float())


def reference_gaussian_nms(boxes, scores, thr, metric, params):
    """Textbook greedy NMS on the full similarity matrix."""
    order = torch.argsort(scores, descending=True, stable=True).tolist()
    sim = gaussian_similarity(boxes, boxes, metric, **params)
    keep = []
    for i in order:
        if all(sim[k, i] <= thr for k in keep):
            keep.append(i)
    return keep


@pytest.mark.parametrize('cfg', [dict(iou_thr=0.1),
                                 dict(type='rotated', iou_thr=0.3)])
def test_rotated_type_equals_mmcv(cfg):
    boxes, scores = random_dets(300, 0)
    dets, keep = rotated_nms(boxes, scores, cfg)
    want_dets, want_keep = nms_rotated(boxes, scores, cfg['iou_thr'])
    assert keep.dtype == torch.long
    assert keep.tolist() == want_keep.tolist()
    torch.testing.assert_close(dets, want_dets, rtol=0, atol=0)


def test_gaussian_suppresses_tiny_duplicates_that_iou_keeps():
    # 2 x 2 boxes 2.5 px apart (IoU 0, NWD exp(-2.5 / 12.8) = 0.82) and a
    # far one
    boxes = torch.tensor([[10.0, 10.0, 2.0, 2.0, 0.0],
                          [12.5, 10.0, 2.0, 2.0, 0.0],
                          [40.0, 40.0, 2.0, 2.0, 0.0]])
    scores = torch.tensor([0.8, 0.9, 0.7])
    _, keep = rotated_nms(boxes, scores, dict(iou_thr=0.1))
    assert keep.tolist() == [1, 0, 2]
    dets, keep = rotated_nms(boxes, scores,
                             dict(type='gaussian', metric='nwd', iou_thr=0.8))
    assert keep.tolist() == [1, 2]
    torch.testing.assert_close(dets[:, 5], torch.tensor([0.9, 0.7]))
    torch.testing.assert_close(dets[:, :5], boxes[[1, 2]])
    _, keep = rotated_nms(boxes, scores,
                          dict(type='gaussian', metric='nwd', thr=0.85))
    assert keep.tolist() == [1, 0, 2]
    _, keep = rotated_nms(
        boxes, scores,
        dict(type='gaussian', metric='nwd', iou_thr=0.8, params=dict(C=5.0)))
    assert keep.tolist() == [1, 0, 2]  # exp(-2.5 / 5) = 0.61


def test_gaussian_nms_is_greedy_and_transitive_free():
    # a chain: A suppresses B, B would suppress C but is gone, so C stays
    boxes = torch.tensor([[0.0, 0.0, 4.0, 4.0, 0.0],
                          [2.0, 0.0, 4.0, 4.0, 0.0],
                          [4.0, 0.0, 4.0, 4.0, 0.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    # NWD(A, B) = NWD(B, C) = exp(-2 / 12.8) = 0.855, NWD(A, C) = 0.73
    _, keep = rotated_nms(boxes, scores,
                          dict(type='gaussian', metric='nwd', iou_thr=0.8))
    assert keep.tolist() == [0, 2]


@pytest.mark.parametrize('metric,thr,params', [
    ('nwd', 0.6, {}),
    ('kld', 0.3, {}),
    ('gwd', 0.25, dict(fun='sqrt')),
    ('bcd', 0.5, {}),
])
def test_gaussian_matches_reference_across_blocks(monkeypatch, metric, thr,
                                                  params):
    monkeypatch.setattr(nms_module, '_BLOCK', 16)
    boxes, scores = random_dets(150, 1, spread=50.0)
    _, keep = rotated_nms(
        boxes, scores,
        dict(type='gaussian', metric=metric, iou_thr=thr, params=params))
    want = reference_gaussian_nms(boxes, scores, thr, metric, params)
    assert 10 < len(want) < 140  # the case exercises suppression
    assert keep.tolist() == want


def test_empty_and_bad_config():
    empty = torch.zeros(0, 5)
    for cfg in (dict(iou_thr=0.1), dict(type='gaussian', iou_thr=0.5)):
        dets, keep = rotated_nms(empty, torch.zeros(0), cfg)
        assert dets.shape == (0, 6) and keep.shape == (0, )
    boxes, scores = random_dets(4, 2)
    with pytest.raises(ValueError, match='unknown nms type'):
        rotated_nms(boxes, scores, dict(type='soft', iou_thr=0.1))
    with pytest.raises(ValueError, match='metric'):
        rotated_nms(boxes, scores, dict(iou_thr=0.1, metric='nwd'))
    with pytest.raises(ValueError, match='not both'):
        rotated_nms(boxes, scores, dict(type='gaussian', iou_thr=0.1,
                                        thr=0.2))
    with pytest.raises(KeyError, match='iou_thr'):
        rotated_nms(boxes, scores, dict(type='gaussian'))
    with pytest.raises(ValueError, match=r'\(N, 5\)'):
        rotated_nms(boxes[:, :4], scores, dict(iou_thr=0.1))


def multiclass_inputs(seed):
    boxes, _ = random_dets(80, seed)
    rng = np.random.default_rng(seed)
    scores = torch.from_numpy(rng.uniform(0, 1, (80, 4))).float()
    return boxes, scores


@pytest.mark.parametrize('class_boxes', [False, True])
def test_multiclass_default_is_mmrotate(class_boxes):
    boxes, scores = multiclass_inputs(3)
    if class_boxes:
        boxes = boxes.repeat(1, 3) + torch.arange(15.0) * 0.01
    cfg = ConfigDict(iou_thr=0.1)
    ours = multiclass_nms_rotated(boxes, scores, 0.3, cfg, max_num=40,
                                  return_inds=True)
    theirs = bbox_nms_rotated.multiclass_nms_rotated(
        boxes, scores, 0.3, cfg, max_num=40, return_inds=True)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_multiclass_gaussian_per_class():
    # two identical boxes of different classes both survive; a duplicate of
    # the same class is removed
    boxes = torch.tensor([[10.0, 10.0, 4.0, 4.0, 0.0],
                          [10.5, 10.0, 4.0, 4.0, 0.0],
                          [50.0, 50.0, 4.0, 4.0, 0.0]])
    scores = torch.tensor([[0.9, 0.0, 0.0], [0.8, 0.85, 0.0],
                           [0.0, 0.6, 0.0]])
    cfg = ConfigDict(type='gaussian', metric='nwd', iou_thr=0.8)
    dets, labels, inds = multiclass_nms_rotated(boxes, scores, 0.05, cfg,
                                                return_inds=True)
    assert labels.tolist() == [0, 1, 1]
    torch.testing.assert_close(dets[:, 5], torch.tensor([0.9, 0.85, 0.6]))
    torch.testing.assert_close(dets[:, :5], boxes[[0, 1, 2]])
    assert inds.tolist() == [0, 3, 5]  # into the (n * #class) candidates
    dets, labels = multiclass_nms_rotated(boxes, scores, 0.05, cfg,
                                          max_num=2)
    assert labels.tolist() == [0, 1] and dets.shape == (2, 6)
    dets, labels = multiclass_nms_rotated(boxes, scores, 0.95, cfg)
    assert dets.shape == (0, 6) and labels.shape == (0, )


@pytest.mark.parametrize('method,iou_thr,table', [('linear', 0.3, True),
                                                  ('linear', 0.5, True),
                                                  ('gaussian', 0.3, True),
                                                  ('linear', 0.3, False)])
def test_soft_equals_mmcv_soft_nms_on_axis_aligned_boxes(
        monkeypatch, method, iou_thr, table):
    if not table:  # the row-by-row path of large inputs
        monkeypatch.setattr(nms_module, '_SOFT_TABLE_MAX', 10)
    boxes, scores = random_dets(200, 4, spread=40.0)
    boxes[:, 4] = 0
    corners = torch.cat([boxes[:, :2] - boxes[:, 2:4] / 2,
                         boxes[:, :2] + boxes[:, 2:4] / 2], 1)
    want_dets, want_keep = soft_nms(corners, scores, iou_thr, sigma=0.5,
                                    min_score=0.05, method=method)
    dets, keep = rotated_nms(
        boxes, scores, dict(type='soft_rotated', iou_thr=iou_thr, sigma=0.5,
                            min_score=0.05, method=method))
    assert 20 < len(want_keep) < 195  # boxes are decayed and dropped
    assert keep.tolist() == want_keep.tolist()
    # mmcv's horizontal IoU and the rotated kernel's polygon IoU agree to
    # float32 rounding (~1e-7); decayed scores compound a few of them.
    torch.testing.assert_close(dets[:, 5], want_dets[:, 4], rtol=0,
                               atol=1e-5)
    torch.testing.assert_close(dets[:, :5], boxes[keep], rtol=0, atol=0)


def test_soft_hand_built_rotated():
    # A: 4 x 2 at 45 degrees. B: A moved 2 px along its long side, IoU(A, B)
    # = 4 / 12. D: 6 x 1 across A's centre at -45 degrees, IoU(A, D) =
    # (2 x 1) / 12, IoU(B, D) = (0.5 x 2) / 13. C: far away.
    c45 = math.cos(math.pi / 4)
    boxes = torch.tensor([[10.0, 10.0, 4.0, 2.0, math.pi / 4],
                          [10.0 + 2 * c45, 10.0 + 2 * c45, 4.0, 2.0,
                           math.pi / 4],
                          [40.0, 40.0, 4.0, 2.0, 0.3],
                          [10.0, 10.0, 6.0, 1.0, -math.pi / 4]])
    scores = torch.tensor([0.9, 0.8, 0.5, 0.6])
    # linear, iou_thr 0.3: A decays B to 0.8 (1 - 1/3), not D (1/6 < 0.3);
    # D (0.6) now goes before B and leaves it (1/13 < 0.3).
    dets, keep = rotated_nms(boxes, scores,
                             dict(type='soft_rotated', iou_thr=0.3))
    assert keep.tolist() == [0, 3, 1, 2]
    # float32 polygon IoU (~1e-7) in the decay
    torch.testing.assert_close(dets[:, 5],
                               torch.tensor([0.9, 0.6, 0.8 * 2 / 3, 0.5]),
                               rtol=0, atol=1e-6)
    # Gaussian, sigma 0.5, decays every overlap: B (0.641) before D, which
    # B decays once more.
    dets, keep = rotated_nms(boxes, scores,
                             dict(type='soft_rotated', method='gaussian',
                                  sigma=0.5))
    assert keep.tolist() == [0, 1, 3, 2]
    want = [0.9, 0.8 * math.exp(-(1 / 3)**2 / 0.5),
            0.6 * math.exp(-(1 / 6)**2 / 0.5) * math.exp(-(1 / 13)**2 / 0.5),
            0.5]
    torch.testing.assert_close(dets[:, 5], torch.tensor(want), rtol=0,
                               atol=1e-6)
    # min_score: after A, B (0.533) and C (0.5) are below 0.55 and dropped
    _, keep = rotated_nms(boxes, scores,
                          dict(type='soft_rotated', iou_thr=0.3,
                               min_score=0.55))
    assert keep.tolist() == [0, 3]


def test_soft_multiclass_is_class_wise():
    boxes = torch.tensor([[10.0, 10.0, 4.0, 4.0, 0.0],
                          [11.0, 10.0, 4.0, 4.0, 0.0],
                          [50.0, 50.0, 4.0, 4.0, 0.0]])
    scores = torch.tensor([[0.9, 0.0, 0.0], [0.8, 0.85, 0.0],
                           [0.0, 0.6, 0.0]])
    cfg = ConfigDict(type='soft_rotated', iou_thr=0.3)
    dets, labels, inds = multiclass_nms_rotated(boxes, scores, 0.05, cfg,
                                                return_inds=True)
    # class 0: box 1 decayed by box 0 (IoU 12 / 20 = 0.6) to 0.8 * 0.4;
    # class 1: box 1 and box 2 do not overlap, nothing decays.
    assert labels.tolist() == [0, 1, 1, 0]
    assert inds.tolist() == [0, 3, 5, 2]
    torch.testing.assert_close(dets[:, 5],
                               torch.tensor([0.9, 0.85, 0.6, 0.8 * 0.4]))
    torch.testing.assert_close(dets[:, :5], boxes[[0, 1, 2, 1]])
    dets, labels = multiclass_nms_rotated(boxes, scores, 0.95, cfg)
    assert dets.shape == (0, 6) and labels.shape == (0, )


def test_soft_empty_and_bad_method():
    dets, keep = rotated_nms(torch.zeros(0, 5), torch.zeros(0),
                             dict(type='soft_rotated', iou_thr=0.5))
    assert dets.shape == (0, 6) and keep.shape == (0, )
    scores, keep = soft_rotated_nms(torch.zeros(0, 5), torch.zeros(0))
    assert scores.shape == keep.shape == (0, )
    boxes, scores = random_dets(4, 5)
    with pytest.raises(ValueError, match='method'):
        rotated_nms(boxes, scores, dict(type='soft_rotated', method='hard'))
    with pytest.raises(ValueError, match='does not take'):
        rotated_nms(boxes, scores, dict(type='soft_rotated', metric='nwd'))

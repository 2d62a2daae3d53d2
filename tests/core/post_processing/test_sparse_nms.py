"""sparse_nms_rotated gives mmcv's nms_rotated result: a hand-built chain,
random crowded scenes with tied scores, and the fallbacks."""
import numpy as np
import pytest
import torch
from mmcv.ops import nms_rotated

from rotated_tod.core.post_processing import sparse_nms
from rotated_tod.core.post_processing.sparse_nms import sparse_nms_rotated


def crowded_scene(seed: int, num: int = 400) -> tuple:
    """Clusters of near-duplicate boxes (what overlapping patches give) plus
    scattered ones, at large image coordinates; a fifth of the scores tied."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 8000, (num // 8, 2))
    boxes = np.concatenate([
        np.column_stack([
            np.repeat(centres, 6, 0) + rng.normal(0, 4, (len(centres) * 6, 2)),
            rng.uniform(4, 60, (len(centres) * 6, 2)),
            rng.uniform(-np.pi / 2, np.pi / 2, len(centres) * 6)]),
        np.column_stack([rng.uniform(0, 8000, (num // 4, 2)),
                         rng.uniform(2, 200, (num // 4, 2)),
                         rng.uniform(-np.pi / 2, np.pi / 2, num // 4)])])
    scores = rng.uniform(0, 1, len(boxes))
    scores[rng.random(len(boxes)) < 0.2] = 0.5
    return (torch.from_numpy(boxes.astype(np.float32)),
            torch.from_numpy(scores.astype(np.float32)))


@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('iou_thr', [0.05, 0.1, 0.5])
def test_same_result_as_mmcv(seed, iou_thr):
    boxes, scores = crowded_scene(seed)
    dets, keep = sparse_nms_rotated(boxes, scores, iou_thr)
    ref_dets, ref_keep = nms_rotated(boxes, scores, iou_thr)
    assert keep.dtype == torch.long
    assert keep.tolist() == ref_keep.tolist()
    assert torch.equal(dets, ref_dets)
    # the scene does exercise suppression
    assert 0 < len(keep) < len(boxes)


def test_pairs_found_in_small_blocks(monkeypatch):
    # a stack of boxes sharing one x range: the sweep's worst case, cut into
    # blocks of a few pairs
    boxes, scores = crowded_scene(4, num=160)
    boxes[:, 0] = 500 + boxes[:, 0] / 1000
    ref_keep = nms_rotated(boxes, scores, 0.1)[1]
    monkeypatch.setattr(sparse_nms, 'PAIRS_PER_BLOCK', 7)
    assert sparse_nms_rotated(boxes, scores, 0.1)[1].tolist() == \
        ref_keep.tolist()


def test_suppression_is_greedy_not_transitive():
    # A overlaps B by half, B overlaps C by half, A and C are apart: A
    # suppresses B, so B suppresses nothing and C stays.
    boxes = torch.tensor([[0., 0, 10, 10, 0], [5, 0, 10, 10, 0],
                          [10, 0, 10, 10, 0], [100, 100, 4, 4, 0.3]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.1])
    dets, keep = sparse_nms_rotated(boxes, scores, 0.3)
    assert keep.tolist() == [0, 2, 3]
    assert dets[:, 5].tolist() == pytest.approx([0.9, 0.7, 0.1])
    # with a higher threshold (IoU of the neighbours is 1/3) nothing goes
    assert sparse_nms_rotated(boxes, scores, 0.34)[1].tolist() == [0, 1, 2, 3]


def test_fallbacks_and_bad_threshold():
    boxes, scores = crowded_scene(3, num=80)
    ref = nms_rotated(boxes.double(), scores.double(), 0.1)[1]
    assert sparse_nms_rotated(boxes.double(), scores.double(),
                              0.1)[1].tolist() == ref.tolist()
    dets, keep = sparse_nms_rotated(boxes[:0], scores[:0], 0.1)
    assert dets.shape == (0, 6) and keep.shape == (0, )
    with pytest.raises(ValueError, match='iou_thr'):
        sparse_nms_rotated(boxes, scores, 0.0)

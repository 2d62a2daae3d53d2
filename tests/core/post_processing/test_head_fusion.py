"""Fusing two heads' detections by class-wise rotated NMS."""
import pytest
import torch

from rotated_tod.core.post_processing import fuse_head_detections


def dets(rows):
    return torch.tensor(rows, dtype=torch.float32)


def test_duplicates_across_heads_keep_the_higher_score():
    main = (dets([[50, 50, 20, 10, 0.1, 0.6], [10, 10, 8, 4, 0.0, 0.3]]),
            torch.tensor([0, 1]))
    small = (dets([[51, 50, 20, 10, 0.1, 0.9], [90, 90, 6, 6, 0.0, 0.5]]),
             torch.tensor([0, 0]))
    boxes, labels = fuse_head_detections([main, small], dict(iou_thr=0.1))
    # The two class-0 boxes at (50, 50) overlap: the stride-4 head's wins.
    assert boxes[:, 5].tolist() == pytest.approx([0.9, 0.5, 0.3])
    assert labels.tolist() == [0, 0, 1]
    assert boxes[0, 0].item() == 51


def test_overlapping_boxes_of_different_classes_are_both_kept():
    main = (dets([[50, 50, 20, 10, 0.0, 0.6]]), torch.tensor([0]))
    small = (dets([[50, 50, 20, 10, 0.0, 0.7]]), torch.tensor([1]))
    boxes, labels = fuse_head_detections([main, small], dict(iou_thr=0.1))
    assert labels.tolist() == [1, 0]
    boxes, labels = fuse_head_detections([main, small], dict(iou_thr=0.1),
                                         max_num=1)
    assert labels.tolist() == [1]


def test_empty_heads():
    empty = (torch.zeros(0, 6), torch.zeros(0, dtype=torch.long))
    boxes, labels = fuse_head_detections([empty, empty], dict(iou_thr=0.1))
    assert boxes.shape == (0, 6) and labels.shape == (0, )

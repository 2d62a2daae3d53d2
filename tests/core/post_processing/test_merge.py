"""Merging patch detections into whole images."""
import numpy as np
import pytest
import torch
from mmcv.ops import nms_rotated

from rotated_tod.core.post_processing.merge import (
    merge_image_results,
    merge_patch_results,
    patch_to_image_boxes,
)


def _dets(*rows):
    return np.array(rows, np.float32).reshape(-1, 6)


def _empty():
    return np.zeros((0, 6), np.float32)


def test_patch_to_image_coordinates_closed_form():
    dets = _dets([10, 20, 8, 4, 0.3, 0.9])
    np.testing.assert_allclose(patch_to_image_boxes(dets, 1.0, 100, 50),
                               [[110, 70, 8, 4, 0.3, 0.9]], rtol=1e-6)
    # rate 0.5: the patch was cut from the image shrunk to half size
    np.testing.assert_allclose(patch_to_image_boxes(dets, 0.5, 100, 50),
                               [[220, 140, 16, 8, 0.3, 0.9]], rtol=1e-6)
    np.testing.assert_allclose(patch_to_image_boxes(dets, 2.0, 100, 50),
                               [[55, 35, 4, 2, 0.3, 0.9]], rtol=1e-6)
    assert dets[0, 0] == 10  # input untouched


def test_merge_maps_groups_and_suppresses_duplicates():
    ids = ['A__1__0___0', 'A__1__800___0', 'A__0.5__0___0', 'B__1__0___0',
           'C']
    results = [
        # the object at image (900, 30) seen by both rate-1 patches
        [_dets([900, 30, 20, 10, 0.1, 0.6]), _empty()],
        [_dets([100, 30, 20, 10, 0.1, 0.8]), _empty()],
        # and at rate 0.5 a different object at image (200, 400)
        [_empty(), _dets([100, 200, 5, 5, 0, 0.7])],
        [_empty(), _empty()],
        [_dets([1, 2, 3, 4, 0, 0.5]), _empty()],
    ]
    merged = merge_patch_results(ids, results, 2, progress=False)
    assert list(merged) == ['A', 'B', 'C']
    np.testing.assert_allclose(merged['A'][0],
                               [[900, 30, 20, 10, 0.1, 0.8]], rtol=1e-6)
    np.testing.assert_allclose(merged['A'][1],
                               [[200, 400, 10, 10, 0, 0.7]], rtol=1e-6)
    for c in range(2):
        assert merged['B'][c].shape == (0, 6)
        assert merged['B'][c].dtype == np.float32
    np.testing.assert_allclose(merged['C'][0], [[1, 2, 3, 4, 0, 0.5]])


def test_merge_uses_the_nms_config():
    # Two 4 x 4 boxes 5 px apart: rotated IoU 0 keeps both, their NWD
    # exp(-5 / 12.8) = 0.68 > 0.5 suppresses the weaker one.
    ids = ['I__1__0___0']
    results = [[_dets([10, 10, 4, 4, 0, 0.9], [15, 10, 4, 4, 0, 0.8])]]
    rotated = merge_patch_results(ids, results, 1, iou_thr=0.1,
                                  progress=False)
    assert len(rotated['I'][0]) == 2
    gaussian = merge_patch_results(
        ids, results, 1, nms_cfg=dict(type='gaussian', metric='nwd',
                                      iou_thr=0.5, params=dict(C=12.8)),
        progress=False)
    np.testing.assert_allclose(gaussian['I'][0], [[10, 10, 4, 4, 0, 0.9]])


def test_parallel_merge_equals_serial():
    rng = np.random.default_rng(0)
    ids, results = [], []
    for image in ('P1', 'P2', 'P3'):
        for x in (0, 300, 600):
            ids.append(f'{image}__1__{x}___0')
            boxes = np.concatenate([
                rng.uniform(0, 400, (30, 2)), rng.uniform(5, 40, (30, 2)),
                rng.uniform(-1.5, 1.5, (30, 1)), rng.uniform(0, 1, (30, 1))
            ], 1).astype(np.float32)
            results.append([boxes[:15], boxes[15:]])
    serial = merge_patch_results(ids, results, 2, progress=False)
    parallel = merge_patch_results(ids, results, 2, nproc=2, progress=False)
    assert list(serial) == list(parallel) == ['P1', 'P2', 'P3']
    for image in serial:
        for a, b in zip(serial[image], parallel[image]):
            np.testing.assert_array_equal(a, b)
            assert len(a) > 0


def test_matches_mmrotate_merge_results():
    """Rate-1 patches: the same boxes as mmrotate's own merge (an
    independent implementation of offsets + rotated NMS)."""
    from mmrotate.core import merge_results
    rng = np.random.default_rng(3)
    offsets = np.array([[0, 0], [200, 0], [0, 200], [200, 200]])
    results = []
    for _ in offsets:
        boxes = np.concatenate([
            rng.uniform(150, 300, (40, 2)), rng.uniform(10, 60, (40, 2)),
            rng.uniform(-1.5, 1.5, (40, 1)), rng.uniform(0, 1, (40, 1))
        ], 1).astype(np.float32)
        results.append([boxes[:20], boxes[20:]])
    ids = [f'img__1__{x}___{y}' for x, y in offsets]
    ours = merge_patch_results(ids, results, 2, iou_thr=0.1,
                               progress=False)['img']
    theirs = merge_results([[d.copy() for d in r] for r in results],
                           offsets, img_shape=(500, 500), iou_thr=0.1,
                           device='cpu')
    for a, b in zip(ours, theirs):
        assert 0 < len(a) < 80
        np.testing.assert_allclose(a[np.lexsort(a.T)], b[np.lexsort(b.T)],
                                   rtol=1e-5, atol=1e-4)


def test_one_pass_equals_patch_by_patch_placement_and_nms():
    """All patches placed at once and the sparse NMS give exactly what
    placing patch by patch and mmcv's nms_rotated per class give, at
    several rates and with tied scores."""
    rng = np.random.default_rng(5)
    entries = []
    for rate, x, y in [(1.0, 0, 0), (1.0, 300, 0), (0.5, 0, 0), (2.0, 600, 400)]:
        per_class = []
        for c in range(3):
            n = 0 if c == 2 and rate == 1.0 else 30
            boxes = np.column_stack([
                rng.uniform(250, 400, (n, 2)), rng.uniform(10, 80, (n, 2)),
                rng.uniform(-1.5, 1.5, n),
                np.where(rng.random(n) < 0.3, 0.5, rng.uniform(0, 1, n))])
            per_class.append(boxes.astype(np.float32))
        entries.append((rate, x, y, per_class))
    merged = merge_image_results(entries, 3, dict(iou_thr=0.1))
    for c in range(3):
        dets = np.concatenate([patch_to_image_boxes(result[c], rate, x, y)
                               for rate, x, y, result in entries])
        ref, _ = nms_rotated(torch.from_numpy(dets[:, :5]),
                             torch.from_numpy(dets[:, 5]), 0.1)
        assert 0 < len(ref) < len(dets)
        np.testing.assert_array_equal(merged[c], ref.numpy())


def test_bad_input_is_an_error():
    with pytest.raises(ValueError, match='2 patch ids for 1'):
        merge_patch_results(['a', 'b'], [[_empty()]], 1, progress=False)
    with pytest.raises(ValueError, match=r'patch x__1__0___0: 1 class'):
        merge_patch_results(['x__1__0___0'], [[_empty()]], 2,
                            progress=False)
    with pytest.raises(ValueError, match=r'class 0 .*\(3, 5\)'):
        merge_patch_results(['x'], [[np.zeros((3, 5))]], 1, progress=False)
    with pytest.raises(ValueError, match='not of the form'):
        merge_patch_results(['x__y'], [[_empty()]], 1, progress=False)

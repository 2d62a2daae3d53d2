"""flip_rboxes and regularize_rboxes: mirrored corners (an independent
geometric check), the angle conventions, and exact round trips with the
pipeline's flip (mmrotate's RRandomFlip)."""
import numpy as np
import pytest
import torch
from mmrotate.datasets.pipelines import RRandomFlip

from rotated_tod.core.bbox.flip import flip_rboxes
from rotated_tod.core.bbox.transforms import rbox_to_polygon, regularize_rboxes

IMG_SHAPE = (300, 400, 3)
DIRECTIONS = ('horizontal', 'vertical', 'diagonal')
VERSIONS = ('le90', 'le135', 'oc')
RANGES = dict(le90=(-np.pi / 2, np.pi / 2), le135=(-np.pi / 4, 3 * np.pi / 4),
              oc=(0, np.pi / 2))


def random_boxes(n=200, seed=0) -> torch.Tensor:
    """Boxes with any sides and any angle (not squares: w, h differ)."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(2, 60, n)
    h = w * rng.uniform(0.2, 0.8, n)
    swap = rng.random(n) < 0.5
    w, h = np.where(swap, h, w), np.where(swap, w, h)
    return torch.tensor(np.stack([
        rng.uniform(0, 400, n), rng.uniform(0, 300, n), w, h,
        rng.uniform(-3 * np.pi, 3 * np.pi, n)], 1))


def assert_same_corners(got, want, atol=1e-9):
    """(N, 5) boxes or (N, 8) polygons with the same corner sets (the order
    of the corners may differ): each corner of one is within ``atol`` of a
    corner of the other, both ways."""
    def corners(array):
        array = np.asarray(array, np.float64)
        if array.shape[-1] == 5:
            array = rbox_to_polygon(array)
        return array.reshape(-1, 4, 2)

    a, b = corners(got), corners(want)
    dist = np.linalg.norm(a[:, :, None] - b[:, None], axis=-1)
    assert dist.min(2).max() < atol and dist.min(1).max() < atol


def assert_in_convention(boxes, version):
    low, high = RANGES[version]
    angle = boxes[:, 4]
    if version == 'oc':
        assert ((angle > low - 1e-12) & (angle <= high + 1e-12)).all()
    else:
        assert (boxes[:, 2] >= boxes[:, 3]).all()
        assert ((angle >= low - 1e-12) & (angle < high)).all()


@pytest.mark.parametrize('version', VERSIONS)
def test_regularize_keeps_the_rectangle_and_follows_the_convention(version):
    boxes = random_boxes()
    for given in (boxes, boxes.numpy()):
        out = regularize_rboxes(given, version)
        assert type(out) is type(given)
        out = np.asarray(out)
        assert_in_convention(out, version)
        assert_same_corners(out, boxes.numpy())
    with pytest.raises(ValueError, match='angle version'):
        regularize_rboxes(boxes, 'le45')


@pytest.mark.parametrize('version', VERSIONS)
@pytest.mark.parametrize('direction', DIRECTIONS)
def test_flip_mirrors_the_corners(direction, version):
    boxes = random_boxes(seed=1)
    flipped = flip_rboxes(boxes, IMG_SHAPE, direction, version).numpy()
    assert_in_convention(flipped, version)
    corners = rbox_to_polygon(boxes.numpy()).reshape(-1, 4, 2)
    if direction in ('horizontal', 'diagonal'):
        corners[..., 0] = IMG_SHAPE[1] - 1 - corners[..., 0]
    if direction in ('vertical', 'diagonal'):
        corners[..., 1] = IMG_SHAPE[0] - 1 - corners[..., 1]
    assert_same_corners(flipped, corners.reshape(-1, 8))


@pytest.mark.parametrize('version', VERSIONS)
@pytest.mark.parametrize('direction', DIRECTIONS)
def test_flip_undoes_the_pipeline_flip(direction, version):
    """Boxes in the convention, flipped by RRandomFlip as the test pipeline
    does, come back to the same numbers."""
    boxes = regularize_rboxes(random_boxes(seed=2), version)
    pipeline = RRandomFlip(flip_ratio=1.0, direction=direction,
                           version=version)
    view = pipeline.bbox_flip(boxes.numpy().copy(), IMG_SHAPE, direction)
    back = flip_rboxes(torch.from_numpy(view), IMG_SHAPE, direction, version)
    np.testing.assert_allclose(back.numpy(), boxes.numpy(), atol=1e-9)


def test_flip_refuses_unknown_directions():
    with pytest.raises(ValueError, match='direction'):
        flip_rboxes(random_boxes(4), IMG_SHAPE, 'transpose', 'le90')

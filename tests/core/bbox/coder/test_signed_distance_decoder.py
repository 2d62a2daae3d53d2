"""SignedDistanceDecoder: decoding closed forms, encode/decode round trip
for points outside the box, and building through mmrotate's registry."""
import math

import pytest
import torch
from mmrotate.core.bbox.builder import build_bbox_coder
from mmrotate.core.bbox.coder.distance_angle_point_coder import DistanceAnglePointCoder

from rotated_tod.core.bbox.coder import SignedDistanceDecoder


def test_signed_distances_decode_to_the_box_between_the_sides():
    decoder = SignedDistanceDecoder(
        DistanceAnglePointCoder(angle_version='le90'), min_size=1e-2)
    theta = math.pi / 6
    points = torch.zeros(3, 2, dtype=torch.float64)
    # (l, t, r, b, theta): sides at -l and +r along the box's x axis.
    distances = torch.tensor([
        [-2.0, 1.0, 6.0, 1.0, 0.0],      # x in [2, 6]: outside the point
        [-3.0, 1.0, 5.0, 3.0, theta],
        [3.0, -1.0, -5.0, 4.0, 0.0],     # x in [-5, -3] given reversed
    ], dtype=torch.float64)
    boxes = decoder.decode(points, distances)
    assert boxes[0].tolist() == pytest.approx([4.0, 0.0, 4.0, 2.0, 0.0])
    # Box frame: x in [3, 5] -> centre 4, y in [-1, 3] -> centre 1.
    c, s = math.cos(theta), math.sin(theta)
    assert boxes[1].tolist() == pytest.approx(
        [4 * c - 1 * s, 4 * s + 1 * c, 2.0, 4.0, theta])
    assert boxes[2].tolist() == pytest.approx([-4.0, 2.5, 2.0, 3.0, 0.0])


def test_min_size_floors_collapsed_sides():
    decoder = SignedDistanceDecoder(
        DistanceAnglePointCoder(angle_version='le90'), min_size=0.5)
    boxes = decoder.decode(torch.zeros(1, 2, dtype=torch.float64),
                           torch.tensor([[1.0, 2.0, -1.0, 1.0, 0.0]],
                                        dtype=torch.float64))
    assert boxes[0].tolist() == pytest.approx([-1.0, -0.5, 0.5, 3.0, 0.0])


def test_built_from_the_registry_round_trips_points_outside_the_box():
    decoder = build_bbox_coder(dict(
        type='SignedDistanceDecoder', min_size=1e-2,
        coder=dict(type='DistanceAnglePointCoder', angle_version='le90')))
    assert isinstance(decoder, SignedDistanceDecoder)
    boxes = torch.tensor([[10.0, 20.0, 6.0, 2.0, 0.4]] * 3,
                         dtype=torch.float64)
    # inside, and two points outside the box (beyond a side and a corner)
    points = torch.tensor([[10.5, 20.2], [16.0, 20.0], [5.0, 26.0]],
                          dtype=torch.float64)
    distances = decoder.encode(points, boxes)
    assert (distances[1:, :4] < 0).any(dim=1).all()
    assert decoder.decode(points, distances).tolist() == [
        pytest.approx(b) for b in boxes.tolist()]

"""Rotated-ellipse mask targets: area, rotation, sub-stride objects and the
Gaussian option."""
import math

import pytest
import torch

from rotated_tod.core.bbox.ellipse_mask import ellipse_mask_targets


def test_large_ellipse_covers_pi_over_4_of_its_box():
    box = torch.tensor([[250.3, 240.7, 300.0, 160.0, 0.3]], dtype=torch.float64)
    mask = ellipse_mask_targets(box, (512, 512), 1)
    share = mask.sum().item() / (300.0 * 160.0)
    # A 300 x 160 ellipse on a unit grid: the boundary error of the pixel
    # count is O(perimeter) ~ 1e3 px against 3.8e4 px of area, far below 1 %.
    assert share == pytest.approx(math.pi / 4, rel=0.01)
    assert set(mask.unique().tolist()) == {0.0, 1.0}


@pytest.mark.parametrize('mode', ['binary', 'gaussian'])
def test_rotating_the_box_by_90_degrees_rotates_the_mask(mode):
    size, stride = 40, 4
    side = size * stride
    box = torch.tensor([[61.37, 83.11, 57.3, 19.7, 0.4123]],
                       dtype=torch.float64)
    # (x, y) -> (y, L - x) maps cell (i, j) to (N - 1 - j, i), i.e. rot90
    # of the array; it turns directions by -90 degrees.
    turned = torch.tensor([[83.11, side - 61.37, 57.3, 19.7,
                            0.4123 - math.pi / 2]], dtype=torch.float64)
    mask = ellipse_mask_targets(box, (size, size), stride, mode)
    rotated = ellipse_mask_targets(turned, (size, size), stride, mode)
    assert mask.sum() > 20
    torch.testing.assert_close(rotated, torch.rot90(mask, 1, (0, 1)),
                               rtol=0, atol=1e-9)


def test_sub_stride_object_marks_its_centre_cell():
    box = torch.tensor([[37.3, 21.9, 3.0, 2.0, 0.4]])
    mask = ellipse_mask_targets(box, (8, 8), 8)
    assert mask.sum() == 1
    assert mask[2, 4] == 1  # floor(21.9 / 8), floor(37.3 / 8)


def test_object_outside_the_map_marks_nothing_and_empty_gts():
    box = torch.tensor([[300.0, 20.0, 3.0, 2.0, 0.0]])
    assert ellipse_mask_targets(box, (8, 8), 8).sum() == 0
    assert ellipse_mask_targets(torch.zeros(0, 5), (3, 4), 8).shape == (3, 4)


def test_gaussian_target_peaks_inside_and_extends_the_binary_one():
    box = torch.tensor([[64.0, 64.0, 60.0, 24.0, -0.7]], dtype=torch.float64)
    binary = ellipse_mask_targets(box, (32, 32), 4)
    gaussian = ellipse_mask_targets(box, (32, 32), 4, 'gaussian')
    inside = binary > 0
    assert (gaussian[inside] >= math.exp(-0.5) - 1e-12).all()
    assert (gaussian[~inside] < math.exp(-0.5) + 1e-12).all()
    assert (gaussian[~inside] > 0).any()
    assert gaussian.max() == 1
    with pytest.raises(ValueError):
        ellipse_mask_targets(box, (8, 8), 4, 'oval')

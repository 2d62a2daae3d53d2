"""riroi_align_rotated against a direct transcription of the kernel's
per-sample loop, and gradcheck."""
import math

import pytest
import torch

from rotated_tod.ops import riroi_align_rotated


def bilinear(plane, y, x):
    """mmcv's bilinear_interpolate on one (H, W) plane, scalar by scalar."""
    height, width = plane.shape
    if y < -1 or y > height or x < -1 or x > width:
        return 0.0
    y, x = max(y, 0.0), max(x, 0.0)
    y_low, x_low = int(y), int(x)
    if y_low >= height - 1:
        y_high = y_low = height - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_high = x_low = width - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1 - ly, 1 - lx
    return (hy * hx * plane[y_low, x_low] + hy * lx * plane[y_low, x_high] +
            ly * hx * plane[y_high, x_low] + ly * lx * plane[y_high, x_high])


def reference(features, rois, out_h, out_w, scale, samples, orientations,
              clockwise):
    """The forward kernel's loop, one output element at a time."""
    features = features.double()
    channels = features.shape[1] // orientations
    out = torch.zeros(len(rois), features.shape[1], out_h, out_w,
                      dtype=torch.float64)
    for n, roi in enumerate(rois.tolist()):
        b = int(roi[0])
        cx, cy = roi[1] * scale, roi[2] * scale
        w, h = max(roi[3] * scale, 1.0), max(roi[4] * scale, 1.0)
        theta = roi[5]
        ind_float = theta * orientations / (2 * math.pi)
        ind = math.floor(ind_float)
        l_var = ind_float - ind
        ind = ind % orientations
        grid_h = samples or math.ceil(h / out_h)
        grid_w = samples or math.ceil(w / out_w)
        angle = -theta if clockwise else theta
        for c in range(channels):
            for o in range(orientations):
                rot = (o - ind) % orientations
                plane = features[b, c * orientations + rot]
                plane_plus = features[b, c * orientations +
                                      (rot + 1) % orientations]
                for ph in range(out_h):
                    for pw in range(out_w):
                        total = 0.0
                        for iy in range(grid_h):
                            yy = -h / 2 + ph * h / out_h + (iy + .5) * (
                                h / out_h) / grid_h
                            for ix in range(grid_w):
                                xx = -w / 2 + pw * w / out_w + (ix + .5) * (
                                    w / out_w) / grid_w
                                y = yy * math.cos(angle) - xx * math.sin(
                                    angle) + cy
                                x = yy * math.sin(angle) + xx * math.cos(
                                    angle) + cx
                                total += ((1 - l_var) * bilinear(plane, y, x) +
                                          l_var * bilinear(plane_plus, y, x))
                        out[n, c * orientations + o, ph, pw] = total / (
                            grid_h * grid_w)
    return out


ROIS = torch.tensor([
    [0, 20.0, 16.0, 14.0, 9.0, 0.4],
    [1, 8.0, 30.0, 30.0, 6.0, -2.5],  # partly outside the map
    [0, 10.0, 10.0, 1.0, 0.5, 7.0],  # smaller than a bin; angle > 2 pi
    [1, 25.0, 5.0, 12.0, 12.0, math.pi / 2],  # an exact orientation step
], dtype=torch.float64)


@pytest.mark.parametrize('samples,clockwise', [(2, False), (0, False),
                                               (0, True)])
def test_equals_the_kernel_loop(samples, clockwise):
    torch.manual_seed(0)
    features = torch.randn(2, 2 * 4, 11, 13, dtype=torch.float64)
    got = riroi_align_rotated(features, ROIS, (3, 2), 0.5, samples, 4,
                              clockwise)
    want = reference(features, ROIS, 3, 2, 0.5, samples, 4, clockwise)
    assert got.shape == (4, 8, 3, 2)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    got32 = riroi_align_rotated(features.float(), ROIS.float(), (3, 2), 0.5,
                                samples, 4, clockwise)
    # float32 sampling positions (<= 40 px, 4e-6 px of rounding) and unit
    # normal features: 1e-4 is far above the rounding.
    torch.testing.assert_close(got32.double(), want, rtol=0, atol=1e-4)


def test_quarter_turn_shifts_orientation_channels():
    # theta = 2 pi / O is exactly one orientation step: output orientation
    # o reads input orientation o - 1, and the sampling grid is turned.
    features = torch.arange(8 * 6 * 6, dtype=torch.float64).reshape(1, 8, 6, 6)
    features = features.sin()
    step = torch.tensor([[0, 3.0, 3.0, 2.0, 2.0, 2 * math.pi / 8]],
                        dtype=torch.float64)
    got = riroi_align_rotated(features, step, 1, 1.0, 1, 8)
    want = reference(features, step, 1, 1, 1.0, 1, 8, False)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    centre = features[0, :, 3, 3]  # the one sample, at (3, 3)
    torch.testing.assert_close(got[0, :, 0, 0], centre.roll(1), rtol=0,
                               atol=1e-12)


def test_gradcheck_float64():
    torch.manual_seed(1)
    features = torch.randn(2, 4, 6, 7, dtype=torch.float64,
                           requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda f: riroi_align_rotated(f, ROIS, 2, 0.5, 0, 4), (features, ))


def test_empty_and_bad_channels():
    features = torch.zeros(1, 8, 5, 5)
    assert riroi_align_rotated(features, torch.zeros(0, 6), 7, 1.0).shape \
        == (0, 8, 7, 7)
    with pytest.raises(ValueError, match='multiple'):
        riroi_align_rotated(torch.zeros(1, 6, 5, 5), ROIS.float(), 7, 1.0)

import pytest
import torch
from mmcv.ops import DeformConv2d

from rotated_tod.models.utils import (
    SampledDeformConv2d,
    deform_conv2d_sampled,
    sampled_deform_conv_like,
)


@pytest.mark.parametrize('kernel, stride, padding, dilation', [
    (3, 1, 1, 1), (3, 2, 1, 1), (1, 1, 0, 1), (3, 1, 2, 2), (5, 1, 2, 1)
])
def test_equals_mmcv_kernel_value_and_gradients(kernel, stride, padding,
                                                dilation):
    torch.manual_seed(0)
    ref = DeformConv2d(6, 4, kernel, stride, padding, dilation)
    x = torch.randn(2, 6, 9, 11, requires_grad=True)
    out_h = (9 + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    out_w = (11 + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    # Large offsets: many samples fall between pixels and outside the map.
    offset = (torch.randn(2, 2 * kernel * kernel, out_h, out_w) *
              3).requires_grad_()
    expected = ref(x, offset)
    grads = torch.autograd.grad(expected.square().sum(),
                                (x, offset, ref.weight))
    fast = sampled_deform_conv_like(ref)
    assert fast.weight is ref.weight
    got = fast(x, offset)
    got_grads = torch.autograd.grad(got.square().sum(),
                                    (x, offset, fast.weight))
    assert torch.allclose(got, expected, atol=1e-4)
    for g, e in zip(got_grads, grads):
        assert torch.allclose(g, e, atol=1e-3, rtol=1e-3)


def test_zero_offset_is_a_plain_convolution():
    torch.manual_seed(1)
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64)
    weight = torch.randn(5, 3, 3, 3, dtype=torch.float64)
    offset = torch.zeros(1, 18, 8, 8, dtype=torch.float64)
    assert torch.allclose(
        deform_conv2d_sampled(x, offset, weight, padding=1),
        torch.nn.functional.conv2d(x, weight, padding=1))


def test_integer_offset_shifts_the_input():
    x = torch.arange(16.).view(1, 1, 4, 4)
    weight = torch.ones(1, 1, 1, 1)
    offset = torch.tensor([1., 0.]).view(1, 2, 1, 1).expand(1, 2, 4, 4)
    out = deform_conv2d_sampled(x, offset, weight)
    assert torch.equal(out[0, 0, :3], x[0, 0, 1:])
    assert torch.equal(out[0, 0, 3], torch.zeros(4))


def test_gradcheck_float64():
    torch.manual_seed(2)
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    offset = (torch.rand(1, 18, 5, 5, dtype=torch.float64) * 0.8 +
              0.1).requires_grad_()
    weight = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b, c: deform_conv2d_sampled(a, b, c, padding=1),
        (x, offset, weight))


def test_rejects_what_it_does_not_compute():
    with pytest.raises(ValueError, match='groups=1'):
        SampledDeformConv2d(4, 4, 3, padding=1, groups=2)
    x = torch.randn(1, 4, 5, 5)
    with pytest.raises(ValueError, match='offset'):
        deform_conv2d_sampled(x, torch.zeros(1, 8, 5, 5),
                              torch.randn(2, 4, 3, 3), padding=1)
    with pytest.raises(ValueError, match='input channels'):
        deform_conv2d_sampled(x, torch.zeros(1, 18, 5, 5),
                              torch.randn(2, 3, 3, 3), padding=1)
    with pytest.raises(ValueError, match='deformable groups'):
        deform_conv2d_sampled(x, torch.zeros(1, 54, 5, 5),
                              torch.randn(2, 4, 3, 3), padding=1,
                              deform_groups=3)


@pytest.mark.parametrize('stride', [1, 2])
def test_deform_groups_equal_mmcv_kernel_value_and_gradients(stride):
    # Four groups (FSANet's SAGH): each channel quarter follows its own
    # offsets; float32 sums of 8*9 products, so 1e-4 as in the test above.
    torch.manual_seed(3)
    ref = DeformConv2d(8, 5, 3, stride, 1, deform_groups=4)
    x = torch.randn(2, 8, 7, 9, requires_grad=True)
    out_h, out_w = (7 - 1) // stride + 1, (9 - 1) // stride + 1
    offset = (torch.randn(2, 4 * 18, out_h, out_w) * 2).requires_grad_()
    expected = ref(x, offset)
    grads = torch.autograd.grad(expected.square().sum(),
                                (x, offset, ref.weight))
    fast = sampled_deform_conv_like(ref)
    assert fast.deform_groups == 4
    got = fast(x, offset)
    got_grads = torch.autograd.grad(got.square().sum(),
                                    (x, offset, fast.weight))
    assert torch.allclose(got, expected, atol=1e-4)
    for g, e in zip(got_grads, grads):
        assert torch.allclose(g, e, atol=1e-3, rtol=1e-3)

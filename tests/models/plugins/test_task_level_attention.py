"""TaskLevelAttention against the KLDet paper's formula, recomputed here."""
import pytest
import torch
from mmcv.cnn import build_plugin_layer

import rotated_tod  # noqa: F401  (registers the plugin)
from rotated_tod.models.plugins.task_level_attention import TaskLevelAttention


def hsigmoid(z: torch.Tensor) -> torch.Tensor:
    return ((z + 3) / 6).clamp(0, 1)


def formula(x: torch.Tensor, w1, b1, w2, b2) -> torch.Tensor:
    """theta = hsigmoid(W2 relu(W1 GAP(x) + b1) + b2) - 0.5;
    y = max((2 t1 + 1) x + t2, 2 t3 x + t4)."""
    channels = x.size(1)
    pooled = x.mean(dim=(2, 3))
    hidden = torch.relu(pooled @ w1.T + b1)
    theta = hsigmoid(hidden @ w2.T + b2) - 0.5
    t1, t2, t3, t4 = (theta[:, i * channels:(i + 1) * channels, None, None]
                      for i in range(4))
    return torch.maximum((2 * t1 + 1) * x + t2, 2 * t3 * x + t4)


def weights(module: TaskLevelAttention):
    conv1, conv2 = module.conv1.conv, module.conv2.conv
    return (conv1.weight[:, :, 0, 0], conv1.bias, conv2.weight[:, :, 0, 0],
            conv2.bias)


def zero_weights(module: TaskLevelAttention) -> None:
    with torch.no_grad():
        for conv in (module.conv1.conv, module.conv2.conv):
            conv.weight.zero_()
            conv.bias.zero_()


def test_shape_and_registration():
    name, module = build_plugin_layer(
        dict(type='TaskLevelAttention', ratio=4), postfix='_cls', channels=16)
    assert name == 'task_level_attention_cls'
    assert isinstance(module, TaskLevelAttention)
    assert module.conv1.conv.out_channels == 4
    assert module.conv2.conv.out_channels == 64
    x = torch.randn(2, 16, 5, 7)
    assert module(x).shape == (2, 16, 5, 7)


def test_zero_weights_give_a_relu():
    module = TaskLevelAttention(8)
    zero_weights(module)
    # theta = hsigmoid(0) - 0.5 = 0: a1 = 1, b1 = 0, a2 = 0, b2 = 0.
    x = torch.randn(3, 8, 4, 4)
    assert torch.equal(module(x), torch.relu(x))


def test_zero_weights_with_biases_give_the_fixed_piecewise_linear_map():
    module = TaskLevelAttention(4)
    zero_weights(module)
    # Biases of the second conv, per (coefficient, channel): theta =
    # clamp((b + 3) / 6, 0, 1) - 0.5, chosen to land on exact values.
    bias = torch.tensor([
        [0.0, 3.0, -3.0, 9.0],    # theta1 = 0, .5, -.5, .5 -> a1 = 1, 2, 0, 2
        [0.0, -0.6, 0.6, -9.0],   # theta2 = 0, -.1, .1, -.5 = b1
        [-3.0, 0.0, 1.5, -1.5],   # theta3 = -.5, 0, .25, -.25 -> a2
        [0.0, 0.0, 3.0, 0.0],     # theta4 = 0, 0, .5, 0 = b2
    ])
    with torch.no_grad():
        module.conv2.conv.bias.copy_(bias.flatten())
    a1 = torch.tensor([1.0, 2.0, 0.0, 2.0])
    b1 = torch.tensor([0.0, -0.1, 0.1, -0.5])
    a2 = torch.tensor([-1.0, 0.0, 0.5, -0.5])
    b2 = torch.tensor([0.0, 0.0, 0.5, 0.0])
    x = torch.linspace(-2, 2, 4 * 9).reshape(1, 4, 3, 3)
    expected = torch.stack([
        torch.maximum(a1[c] * x[0, c] + b1[c], a2[c] * x[0, c] + b2[c])
        for c in range(4)
    ])[None]
    assert torch.allclose(module(x), expected, atol=1e-6)
    # Channel 0: max(x, -x) = |x|.
    assert torch.allclose(module(x)[0, 0], x[0, 0].abs(), atol=1e-6)


def test_matches_the_formula_with_random_weights():
    torch.manual_seed(0)
    module = TaskLevelAttention(8, ratio=2)
    for conv in (module.conv1.conv, module.conv2.conv):
        torch.nn.init.normal_(conv.weight, std=1.0)
        torch.nn.init.normal_(conv.bias, std=1.0)
    x = torch.randn(2, 8, 6, 5)
    assert torch.allclose(module(x), formula(x, *weights(module)),
                          atol=1e-5)


def test_gradcheck():
    torch.manual_seed(1)
    module = TaskLevelAttention(4).double()
    for conv in (module.conv1.conv, module.conv2.conv):
        torch.nn.init.normal_(conv.weight, std=0.5)
    x = torch.randn(2, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(module, (x, ), eps=1e-6, atol=1e-5)


def test_bad_channels():
    with pytest.raises(ValueError, match='divisible'):
        TaskLevelAttention(6, ratio=4)
    with pytest.raises(ValueError, match='expected'):
        TaskLevelAttention(8)(torch.zeros(1, 4, 2, 2))

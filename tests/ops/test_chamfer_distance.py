"""chamfer_distance against a brute-force loop, and gradcheck."""
import numpy as np
import torch

from rotated_tod.ops import chamfer_distance


def test_equals_brute_force():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 9, 2)), rng.normal(size=(3, 5, 2))
    dist1, dist2, idx1, idx2 = chamfer_distance(torch.from_numpy(a),
                                                torch.from_numpy(b))
    assert idx1.dtype == idx2.dtype == torch.int32
    for k in range(3):
        squared = ((a[k][:, None] - b[k][None]) ** 2).sum(-1)
        np.testing.assert_allclose(dist1[k].numpy(), squared.min(1),
                                   rtol=1e-12)
        np.testing.assert_allclose(dist2[k].numpy(), squared.min(0),
                                   rtol=1e-12)
        assert idx1[k].tolist() == squared.argmin(1).tolist()
        assert idx2[k].tolist() == squared.argmin(0).tolist()


def test_gradcheck_float64():
    rng = np.random.default_rng(1)
    a = torch.from_numpy(rng.normal(size=(2, 6, 2))).requires_grad_()
    b = torch.from_numpy(rng.normal(size=(2, 4, 2))).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x, y: chamfer_distance(x, y)[:2], (a, b))

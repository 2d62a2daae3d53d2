"""Tests of the dense graph convolution used by INEN."""
import math

import pytest
import torch

from rotated_tod.models.utils.graph_conv import (
    DenseGraphConv,
    normalized_adjacency,
)

F64 = torch.float64
# Three nodes: 0 and 1 linked with p = (0.25, 0.75), so M[0, 1] = p1 / (p0 +
# p1) = 0.75 and M[1, 0] = 0.25; node 2 only has its self-loop.
M = torch.tensor([[1.0, 0.75, 0.0], [0.25, 1.0, 0.0], [0.0, 0.0, 1.0]],
                 dtype=F64)
H = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]], dtype=F64)


def identity_conv(direction):
    conv = DenseGraphConv(2, 2, direction).to(F64)
    with torch.no_grad():
        conv.linear.weight.copy_(torch.eye(2, dtype=F64))
        conv.bias.zero_()
    return conv


def test_official_direction_by_hand():
    # Column sums (in-degrees of the receivers): 1.25, 1.75, 1. Receiver j
    # takes M[i, j] / sqrt(d_i d_j) of node i.
    out = identity_conv('official')(H, M)
    want = torch.tensor(
        [[1 / 1.25, 0.25 / math.sqrt(1.25 * 1.75)],
         [0.75 / math.sqrt(1.25 * 1.75), 1 / 1.75], [2.0, 2.0]], dtype=F64)
    torch.testing.assert_close(out, want)


def test_reverse_direction_by_hand():
    # Row sums: 1.75, 1.25, 1. Receiver i takes M[i, j] / sqrt(r_i r_j) of j.
    out = identity_conv('reverse')(H, M)
    want = torch.tensor(
        [[1 / 1.75, 0.75 / math.sqrt(1.25 * 1.75)],
         [0.25 / math.sqrt(1.25 * 1.75), 1 / 1.25], [2.0, 2.0]], dtype=F64)
    torch.testing.assert_close(out, want)


def message_passing(features, adjacency, weight, bias):
    """PyG GCNConv semantics on the edge list of the adjacency (an
    independent loop): edge i -> j with weight M[i, j]; deg = weighted
    in-degree; out[j] += M[i, j] / sqrt(deg[i] deg[j]) * (x_i W^T)."""
    n = adjacency.size(0)
    deg = [sum(float(adjacency[i, j]) for i in range(n)) for j in range(n)]
    x = features @ weight.t()
    out = bias.expand(n, -1).clone()
    for i in range(n):
        for j in range(n):
            w = float(adjacency[i, j])
            if w != 0:
                out[j] += w / math.sqrt(deg[i] * deg[j]) * x[i]
    return out


def test_official_direction_matches_edge_list_message_passing():
    gen = torch.Generator().manual_seed(0)
    n = 6
    adjacency = torch.rand(n, n, generator=gen, dtype=F64)
    adjacency[adjacency < 0.4] = 0
    adjacency.fill_diagonal_(1)
    features = torch.randn(n, 4, generator=gen, dtype=F64)
    conv = DenseGraphConv(4, 3, 'official').to(F64)
    with torch.no_grad():
        conv.bias.normal_(generator=gen)
    want = message_passing(features, adjacency, conv.linear.weight.detach(),
                           conv.bias.detach())
    torch.testing.assert_close(conv(features, adjacency), want)
    # The reverse direction is the official one on the transposed graph.
    reverse = DenseGraphConv(4, 3, 'reverse').to(F64)
    reverse.load_state_dict(conv.state_dict())
    torch.testing.assert_close(reverse(features, adjacency),
                               conv(features, adjacency.t()))


def test_isolated_node_without_self_loop_gets_bias():
    adjacency = M.clone()
    adjacency[2, 2] = 0
    conv = identity_conv('official')
    with torch.no_grad():
        conv.bias.fill_(0.5)
    out = conv(H, adjacency)
    torch.testing.assert_close(out[2], torch.full((2, ), 0.5, dtype=F64))
    assert torch.isfinite(normalized_adjacency(adjacency)).all()


def test_gradcheck():
    conv = DenseGraphConv(2, 3, 'official').to(F64)
    features = H.clone().requires_grad_()
    adjacency = M.clone().requires_grad_()
    assert torch.autograd.gradcheck(conv, (features, adjacency))


def test_bad_arguments():
    with pytest.raises(ValueError, match='direction'):
        DenseGraphConv(2, 2, 'both')
    conv = DenseGraphConv(2, 2)
    with pytest.raises(ValueError, match='adjacency'):
        conv(H.float(), torch.eye(2))
    with pytest.raises(ValueError, match='features'):
        conv(torch.zeros(3, 5), torch.eye(3))

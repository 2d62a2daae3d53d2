"""Fine-grained mining: top-k gathering, scattering back, the identity at
initialisation and equivariance of the mined set."""
import torch

from rotated_tod.models.plugins import FineGrainedMining
from rotated_tod.models.plugins.fine_grained_mining import gather_topk, scatter_back


def test_gather_takes_the_top_k_locations_per_image():
    feature = torch.arange(2 * 3 * 2 * 3, dtype=torch.float32).view(2, 3, 2, 3)
    score = torch.tensor([[[0.1, 0.9, 0.2], [0.8, 0.0, 0.3]],
                          [[0.5, 0.1, 0.7], [0.2, 0.6, 0.4]]])
    tokens, index = gather_topk(feature, score, 2)
    assert index.tolist() == [[1, 3], [2, 4]]
    assert tokens[0].tolist() == [feature[0, :, 0, 1].tolist(),
                                  feature[0, :, 1, 0].tolist()]
    assert tokens[1].tolist() == [feature[1, :, 0, 2].tolist(),
                                  feature[1, :, 1, 1].tolist()]
    _, index = gather_topk(feature, score, 100)
    assert index.shape == (2, 6)


def test_scatter_back_adds_only_at_the_gathered_locations():
    feature = torch.randn(2, 3, 4, 5)
    score = torch.rand(2, 4, 5)
    tokens, index = gather_topk(feature, score, 4)
    delta = torch.randn(2, 4, 3)
    out = scatter_back(feature, index, delta)
    expected = feature.clone().view(2, 3, -1)
    for b in range(2):
        for j in range(4):
            expected[b, :, index[b, j]] += delta[b, j]
    torch.testing.assert_close(out, expected.view_as(feature))
    # Gathering the result returns tokens + delta.
    back = out.view(2, 3, -1).gather(2, index[:, None].expand(-1, 3, -1))
    torch.testing.assert_close(back.transpose(1, 2), tokens + delta)


def test_mining_starts_as_identity_then_changes_only_the_top_k():
    torch.manual_seed(0)
    mining = FineGrainedMining(8, topk=3, num_heads=2).double()
    feature = torch.randn(1, 8, 4, 4, dtype=torch.float64)
    score = torch.rand(1, 4, 4, dtype=torch.float64)
    torch.testing.assert_close(mining(feature, score), feature)
    torch.nn.init.normal_(mining.out.weight)
    out = mining(feature, score)
    changed = (out - feature).abs().sum(1).flatten() > 0
    top = score.flatten().topk(3).indices
    assert sorted(changed.nonzero().flatten().tolist()) == sorted(
        top.tolist())


def test_mined_updates_follow_their_locations():
    """Moving the features and scores together (a transposed map) moves the
    updates with them: the block sees an unordered set (plus positions)."""
    torch.manual_seed(0)
    mining = FineGrainedMining(8, topk=5, num_heads=2).double()
    torch.nn.init.normal_(mining.out.weight)
    torch.nn.init.zeros_(mining.position.weight)
    torch.nn.init.zeros_(mining.position.bias)
    feature = torch.randn(1, 8, 4, 4, dtype=torch.float64)
    score = torch.rand(1, 4, 4, dtype=torch.float64)
    out = mining(feature, score)
    flipped = mining(feature.transpose(2, 3), score.transpose(1, 2))
    torch.testing.assert_close(flipped, out.transpose(2, 3))

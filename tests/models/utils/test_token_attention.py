"""TokenAttentionBlock is equivariant to permutations of its tokens."""
import torch

from rotated_tod.models.utils import TokenAttentionBlock


def test_permuting_the_tokens_permutes_the_outputs():
    torch.manual_seed(0)
    block = TokenAttentionBlock(16, num_heads=4).double().eval()
    tokens = torch.randn(2, 7, 16, dtype=torch.float64)
    order = torch.randperm(7)
    out = block(tokens)
    torch.testing.assert_close(block(tokens[:, order]), out[:, order])
    # The tokens do interact: changing one changes the others.
    changed = tokens.clone()
    changed[:, 0] += torch.randn(16, dtype=torch.float64)  # LN ignores +c
    assert not torch.allclose(block(changed)[:, 1:], out[:, 1:])


def test_padded_tokens_are_ignored_as_keys():
    torch.manual_seed(0)
    block = TokenAttentionBlock(8, num_heads=2).double().eval()
    tokens = torch.randn(1, 5, 8, dtype=torch.float64)
    mask = torch.tensor([[False, False, False, True, True]])
    changed = tokens.clone()
    changed[:, 3:] = torch.randn(1, 2, 8, dtype=torch.float64)
    torch.testing.assert_close(block(tokens, mask)[:, :3],
                               block(changed, mask)[:, :3])

"""Dense graph convolution on a weighted, directed adjacency matrix.

The graph layer of SWIN-TOD's instance-level neighbouring enhancement (INEN;
"SWIN-TOD: Smooth Wasserstein Distance and Instance-level Neighboring
Enhancement for Remote Sensing Tiny Object Detection", IEEE TGRS 2024), in
plain PyTorch (the official code needs a graph library, PyG's ``GCNConv``).

With ``M`` the (N, N) adjacency (``M[i, j]`` the weight of the edge from
node i to node j, self-loops included by the caller) and ``H`` the (N, C_in)
node features::

    direction='official':  H' = D^-1/2 M^T D^-1/2 H W + b,  D = diag(col sums of M)
    direction='reverse':   H' = D^-1/2 M   D^-1/2 H W + b,  D = diag(row sums of M)

``'official'`` is what ``GCNConv`` computes for the edge list of ``M``
(messages flow along the rows, from i to j, and each receiver j is
normalised by its in-degree): receiver j weighs neighbour i by ``M[i, j]``.
``'reverse'`` lets receiver i weigh neighbour j by ``M[i, j]``. Node
degrees are clamped away from 0, so isolated nodes (no self-loop) get
``b`` instead of NaN.
"""
import torch
from torch import nn

DIRECTIONS = ('official', 'reverse')


def normalized_adjacency(adjacency: torch.Tensor,
                         direction: str = 'official') -> torch.Tensor:
    """The (N, N) propagation matrix ``A`` with ``H' = A H W + b``.

    ``A = D^-1/2 M^T D^-1/2`` (column sums) for ``'official'``,
    ``D^-1/2 M D^-1/2`` (row sums) for ``'reverse'``.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f'direction must be one of {DIRECTIONS}, got '
                         f'{direction!r}')
    if adjacency.dim() != 2 or adjacency.size(0) != adjacency.size(1):
        raise ValueError(f'adjacency must be (N, N), got '
                         f'{tuple(adjacency.shape)}')
    matrix = adjacency.t() if direction == 'official' else adjacency
    # Row sums of `matrix` are the in-degrees of the receivers (its rows).
    degree = matrix.sum(dim=1)
    scale = degree.clamp(min=torch.finfo(degree.dtype).tiny).rsqrt()
    scale = torch.where(degree > 0, scale, torch.zeros_like(scale))
    return scale[:, None] * matrix * scale[None, :]


class DenseGraphConv(nn.Module):
    """``H' = A H W + b`` with ``A`` from :func:`normalized_adjacency`.

    Args:
        in_channels: C_in.
        out_channels: C_out.
        direction: ``'official'`` or ``'reverse'`` (module docstring).
        bias: learn ``b``.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 direction: str = 'official', bias: bool = True) -> None:
        super().__init__()
        if direction not in DIRECTIONS:
            raise ValueError(f'direction must be one of {DIRECTIONS}, got '
                             f'{direction!r}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.direction = direction
        self.linear = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.xavier_uniform_(self.linear.weight)

    def forward(self, features: torch.Tensor,
                adjacency: torch.Tensor) -> torch.Tensor:
        """(N, C_in) features, (N, N) adjacency -> (N, C_out)."""
        if features.dim() != 2 or features.size(1) != self.in_channels:
            raise ValueError(f'features must be (N, {self.in_channels}), got '
                             f'{tuple(features.shape)}')
        if adjacency.shape != (features.size(0), features.size(0)):
            raise ValueError(f'adjacency must be ({features.size(0)}, '
                             f'{features.size(0)}), got '
                             f'{tuple(adjacency.shape)}')
        propagation = normalized_adjacency(adjacency.to(features.dtype),
                                           self.direction)
        out = propagation @ self.linear(features)
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return (f'{self.in_channels}, {self.out_channels}, '
                f'direction={self.direction!r}')

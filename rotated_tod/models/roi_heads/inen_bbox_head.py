"""SWIN-TOD's instance-level neighbouring enhancement (INEN) in a rotated
RoI box head ("SWIN-TOD: Smooth Wasserstein Distance and Instance-level
Neighboring Enhancement for Remote Sensing Tiny Object Detection", IEEE
TGRS 2024).

The RoIs of a stage are the nodes of a graph; a node's feature is the
global average of its pooled (rotated) RoI feature, ``h_i`` (C,). Edges join
RoIs of the same class, weighted by how confident each is::

    M[i, j] = p_j / (p_i + p_j)   for i != j of the same class,
    M[i, i] = 1,                  every other entry 0,

- in training among the *positive* sampled RoIs with the same GT class,
  ``p`` the detector's softmax probability of the RoI's GT class
  (background RoIs keep only their self-loop);
- at test among the RoIs predicted as foreground with the same predicted
  class (argmax of the softmax), ``p`` the max probability, at most
  ``max_test_nodes`` of them, the highest scoring (the published code takes
  the first 512 in proposal order).

RoIs outside these edges keep only their self-loop (as background RoIs do in
training), so every RoI gets graph logits.

Two :class:`~rotated_tod.models.utils.graph_conv.DenseGraphConv` layers
(C -> ``graph_channels`` -> ReLU -> dropout -> ``num_classes + 1``) turn the
node features into graph logits ``g``. Training adds the graph
cross-entropy to the detector's (``0.7 CE(logits) + 0.3 CE(g)`` with the
default weights of ``loss_cls`` and ``loss_graph``, same targets and
weights); test replaces the logits by ``0.9 logits + 0.1 log_softmax(g)``
(log-linear pooling ``p ~ p_det^0.9 p_graph^0.1``; ``aug_test_mix`` = 0.7 /
0.3 for augmented testing, ``fuse(..., aug=True)``: mmrotate 0.3.4's
Oriented R-CNN and RoI Transformer RoI heads have no augmented test).

Unlike the published code (our choices, all documented defects there): the
graph layers are registered submodules (trained, saved, moved, switched to
eval), the class count comes from ``num_classes``, graphs are per image by
default (``cross_image=True`` joins the RoIs of all images of a batch), the
edge weights are detached by default (``detach_edges=False`` lets the graph
loss reach the detector's logits through them), no graph library is
needed.
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmrotate.models.builder import ROTATED_HEADS, build_loss
from mmrotate.models.roi_heads.bbox_heads import RotatedShared2FCBBoxHead
from torch import nn

from ..utils.graph_conv import DIRECTIONS, DenseGraphConv


def confidence_adjacency(probs: torch.Tensor, linked: torch.Tensor) -> torch.Tensor:
    """(N, N) ``M[i, j] = p_j / (p_i + p_j)`` where ``linked[i, j]``, 1 on
    the diagonal, 0 elsewhere, from the (N,) probabilities ``probs``."""
    denominator = (probs[:, None] + probs[None, :]).clamp(
        min=torch.finfo(probs.dtype).tiny)
    weights = probs[None, :] / denominator
    adjacency = torch.where(linked, weights, torch.zeros_like(weights))
    eye = torch.eye(probs.numel(), dtype=torch.bool, device=probs.device)
    return torch.where(eye, torch.ones_like(adjacency), adjacency)


@ROTATED_HEADS.register_module()
class INENBBoxHead(RotatedShared2FCBBoxHead):
    """``RotatedShared2FCBBoxHead`` with an INEN graph branch (module
    docstring). Works with horizontal (RoI Transformer's first stage) and
    rotated RoIs: only the RoI features, image indices and class scores are
    used.

    Args:
        graph_channels: width of the first graph layer (256 in SWIN-TOD).
        graph_direction: ``'official'`` (``D^-1/2 M^T D^-1/2``, a confident
            RoI takes more from its neighbours) or ``'reverse'`` (no
            transpose, a hard RoI draws from confident ones).
        graph_dropout: dropout between the graph layers.
        loss_graph: the graph classification loss (softmax CE, weight 0.3).
        test_mix: ``(a, b)``: test logits ``a * logits + b *
            log_softmax(g)``.
        aug_test_mix: the same for augmented testing.
        max_test_nodes: most foreground RoIs per graph at test.
        cross_image: one graph over all images of a batch.
        detach_edges: compute the edge weights from detached scores.
        loss_cls: default softmax CE with weight 0.7.
        **kwargs: ``RotatedShared2FCBBoxHead`` arguments.
    """

    def __init__(self,
                 *args,
                 graph_channels: int = 256,
                 graph_direction: str = 'official',
                 graph_dropout: float = 0.5,
                 loss_graph: Optional[Dict] = None,
                 test_mix: Sequence[float] = (0.9, 0.1),
                 aug_test_mix: Sequence[float] = (0.7, 0.3),
                 max_test_nodes: int = 512,
                 cross_image: bool = False,
                 detach_edges: bool = True,
                 loss_cls: Optional[Dict] = None,
                 **kwargs) -> None:
        if loss_cls is None:
            loss_cls = dict(type='CrossEntropyLoss', use_sigmoid=False,
                            loss_weight=0.7)
        if loss_cls.get('use_sigmoid', False):
            raise ValueError('INEN needs a softmax classifier (its edge '
                             'weights are class probabilities)')
        super().__init__(*args, loss_cls=loss_cls, **kwargs)
        if graph_direction not in DIRECTIONS:
            raise ValueError(f'graph_direction must be one of {DIRECTIONS}, '
                             f'got {graph_direction!r}')
        if len(test_mix) != 2 or len(aug_test_mix) != 2:
            raise ValueError('test_mix and aug_test_mix are (a, b) pairs')
        if max_test_nodes < 1:
            raise ValueError(f'max_test_nodes must be >= 1, got '
                             f'{max_test_nodes}')
        if self.custom_cls_channels:
            raise ValueError('INEN needs plain softmax logits (num_classes '
                             '+ 1 channels)')
        self.graph_direction = graph_direction
        self.test_mix = tuple(float(w) for w in test_mix)
        self.aug_test_mix = tuple(float(w) for w in aug_test_mix)
        self.max_test_nodes = int(max_test_nodes)
        self.cross_image = bool(cross_image)
        self.detach_edges = bool(detach_edges)
        self.graph_conv1 = DenseGraphConv(self.in_channels, graph_channels,
                                          graph_direction)
        self.graph_conv2 = DenseGraphConv(graph_channels,
                                          self.num_classes + 1,
                                          graph_direction)
        self.graph_dropout = nn.Dropout(graph_dropout)
        self.loss_graph = build_loss(loss_graph or dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.3))

    def graph_forward(self, bbox_feats: torch.Tensor,
                      adjacency: torch.Tensor) -> torch.Tensor:
        """(N, C, h, w) pooled RoI features, (N, N) adjacency -> (N,
        num_classes + 1) graph logits."""
        nodes = bbox_feats.flatten(2).mean(dim=2)
        hidden = F.relu(self.graph_conv1(nodes, adjacency))
        return self.graph_conv2(self.graph_dropout(hidden), adjacency)

    def _same_graph(self, image_ids: torch.Tensor) -> torch.Tensor:
        """(N, N) mask of the pairs allowed in one graph."""
        if self.cross_image:
            return torch.ones(image_ids.numel(), image_ids.numel(),
                              dtype=torch.bool, device=image_ids.device)
        return image_ids[:, None] == image_ids[None, :]

    def _probs(self, cls_score: torch.Tensor) -> torch.Tensor:
        probs = F.softmax(cls_score, dim=1)
        return probs.detach() if self.detach_edges else probs

    def train_adjacency(self, cls_score: torch.Tensor, labels: torch.Tensor,
                        image_ids: torch.Tensor) -> torch.Tensor:
        """(N, N) training adjacency of the sampled RoIs.

        Args:
            cls_score: (N, num_classes + 1) detector logits.
            labels: (N,) targets, ``num_classes`` for background.
            image_ids: (N,) image index of each RoI (``rois[:, 0]``).
        """
        probs = self._probs(cls_score)
        positive = (labels >= 0) & (labels < self.num_classes)
        target = labels.clamp(0, self.num_classes)
        p = probs.gather(1, target[:, None])[:, 0]
        linked = ((labels[:, None] == labels[None, :]) & positive[:, None] &
                  positive[None, :] & self._same_graph(image_ids))
        return confidence_adjacency(p, linked)

    def test_nodes(self, cls_score: torch.Tensor,
                   image_ids: torch.Tensor) -> torch.Tensor:
        """(N,) mask of the RoIs that join a test graph: predicted
        foreground, the ``max_test_nodes`` highest scoring of each graph."""
        p, predicted = F.softmax(cls_score.detach(), dim=1).max(dim=1)
        foreground = predicted < self.num_classes
        groups = (image_ids.new_zeros(1) if self.cross_image else
                  image_ids.unique())
        kept = torch.zeros_like(foreground)
        for group in groups:
            members = foreground if self.cross_image else (
                foreground & (image_ids == group))
            index = members.nonzero(as_tuple=True)[0]
            if index.numel() > self.max_test_nodes:
                top = p[index].topk(self.max_test_nodes).indices
                index = index[top]
            kept[index] = True
        return kept

    def test_adjacency(self, cls_score: torch.Tensor,
                       image_ids: torch.Tensor) -> torch.Tensor:
        """(N, N) test adjacency of the RoIs (see :meth:`test_nodes`)."""
        probs = self._probs(cls_score)
        p, predicted = probs.max(dim=1)
        kept = self.test_nodes(cls_score, image_ids)
        linked = ((predicted[:, None] == predicted[None, :]) &
                  kept[:, None] & kept[None, :] & self._same_graph(image_ids))
        return confidence_adjacency(p, linked)

    def fuse(self, cls_score: torch.Tensor, graph_score: torch.Tensor,
             aug: bool = False) -> torch.Tensor:
        """Test logits ``a * cls_score + b * log_softmax(graph_score)``."""
        a, b = self.aug_test_mix if aug else self.test_mix
        return a * cls_score + b * F.log_softmax(graph_score, dim=1)

    def test_logits(self, bbox_feats: torch.Tensor, cls_score: torch.Tensor,
                    rois: torch.Tensor, aug: bool = False) -> torch.Tensor:
        """The fused test logits (N, num_classes + 1) of the RoIs ``rois``
        (``[image index, box...]``)."""
        if cls_score.numel() == 0:
            return cls_score
        adjacency = self.test_adjacency(cls_score, rois[:, 0])
        return self.fuse(cls_score, self.graph_forward(bbox_feats, adjacency),
                         aug)

    def graph_loss(self, bbox_feats: torch.Tensor, cls_score: torch.Tensor,
                   rois: torch.Tensor, labels: torch.Tensor,
                   label_weights: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``{'loss_graph_cls': ..., 'acc_graph': ...}`` over the sampled
        RoIs, with the detector's classification targets and weights."""
        adjacency = self.train_adjacency(cls_score, labels, rois[:, 0])
        graph_score = self.graph_forward(bbox_feats, adjacency)
        avg_factor = max(torch.sum(label_weights > 0).float().item(), 1.)
        loss = self.loss_graph(graph_score, labels, label_weights,
                               avg_factor=avg_factor)
        accuracy = (graph_score.argmax(1) == labels).float().mean() * 100
        return dict(loss_graph_cls=loss, acc_graph=accuracy.detach())

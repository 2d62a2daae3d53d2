"""Tests of INEN's box head: edges, graph branch, fusion, training."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmrotate.models.builder import build_head

import rotated_tod  # noqa: F401  (registers the head)
from rotated_tod.models.roi_heads import INENBBoxHead

NUM_CLASSES = 3
BG = NUM_CLASSES
HEAD = dict(
    type='INENBBoxHead',
    in_channels=8,
    fc_out_channels=16,
    roi_feat_size=2,
    num_classes=NUM_CLASSES,
    graph_channels=12,
    bbox_coder=dict(
        type='DeltaXYWHAOBBoxCoder',
        angle_range='le90',
        norm_factor=None,
        edge_swap=True,
        proj_xy=True,
        target_means=(.0, .0, .0, .0, .0),
        target_stds=(0.1, 0.1, 0.2, 0.2, 0.1)),
    reg_class_agnostic=True)


def make_head(**kwargs) -> INENBBoxHead:
    torch.manual_seed(0)
    cfg = copy.deepcopy(HEAD)
    cfg.update(kwargs)
    head = build_head(cfg)
    head.init_weights()
    return head


def logits_with_probs(probs):
    """Logits whose softmax is ``probs`` (rows summing to 1)."""
    return torch.tensor(probs, dtype=torch.float32).log()


def test_defaults_and_class_count_from_config():
    head = make_head(num_classes=5)
    assert head.graph_conv2.out_channels == 6
    assert head.graph_conv1.in_channels == 8
    assert head.graph_direction == 'official'
    assert head.test_mix == (0.9, 0.1) and head.aug_test_mix == (0.7, 0.3)
    assert head.max_test_nodes == 512 and head.graph_dropout.p == 0.5
    assert head.loss_cls.loss_weight == 0.7
    assert head.loss_graph.loss_weight == 0.3
    assert not head.cross_image and head.detach_edges
    with pytest.raises(ValueError, match='softmax'):
        make_head(loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True))
    with pytest.raises(ValueError, match='graph_direction'):
        make_head(graph_direction='both')


def test_graph_layers_are_registered_saved_and_moved():
    head = make_head()
    state = head.state_dict()
    for name in ('graph_conv1.linear.weight', 'graph_conv1.bias',
                 'graph_conv2.linear.weight', 'graph_conv2.bias'):
        assert name in state
    params = {id(p) for p in head.parameters()}
    assert id(head.graph_conv1.linear.weight) in params
    head.to(torch.float64)
    assert head.graph_conv2.linear.weight.dtype == torch.float64
    fresh = make_head()
    with torch.no_grad():
        fresh.graph_conv1.linear.weight.add_(1)
    fresh.load_state_dict(
        {k: v.float() for k, v in head.state_dict().items()})
    torch.testing.assert_close(fresh.graph_conv1.linear.weight,
                               head.graph_conv1.linear.weight.float())


def test_train_edges_same_class_positives_same_image():
    head = make_head()
    probs = [[0.2, 0.3, 0.1, 0.4],  # RoI 0: class 0, p = 0.2
             [0.6, 0.1, 0.1, 0.2],  # RoI 1: class 0, p = 0.6
             [0.1, 0.5, 0.2, 0.2],  # RoI 2: class 1
             [0.3, 0.3, 0.2, 0.2],  # RoI 3: background
             [0.5, 0.1, 0.1, 0.3]]  # RoI 4: class 0, other image
    labels = torch.tensor([0, 0, 1, BG, 0])
    image_ids = torch.tensor([0.0, 0, 0, 0, 1])
    m = head.train_adjacency(logits_with_probs(probs), labels, image_ids)
    want = torch.eye(5)
    want[0, 1] = 0.6 / (0.2 + 0.6)  # p_j / (p_i + p_j)
    want[1, 0] = 0.2 / (0.2 + 0.6)
    torch.testing.assert_close(m, want)
    # Across images only on request.
    cross = make_head(cross_image=True).train_adjacency(
        logits_with_probs(probs), labels, image_ids)
    assert cross[0, 4] == pytest.approx(0.5 / 0.7)
    assert cross[4, 1] == pytest.approx(0.6 / 1.1)
    assert cross[3].sum() == 1 and cross[:, 3].sum() == 1  # background


def test_test_edges_predicted_class_and_foreground():
    head = make_head()
    probs = [[0.7, 0.1, 0.1, 0.1],  # predicted 0, p 0.7
             [0.5, 0.2, 0.1, 0.2],  # predicted 0, p 0.5
             [0.1, 0.6, 0.1, 0.2],  # predicted 1
             [0.3, 0.1, 0.1, 0.5],  # predicted background
             [0.4, 0.1, 0.2, 0.3]]  # predicted 0
    image_ids = torch.zeros(5)
    m = head.test_adjacency(logits_with_probs(probs), image_ids)
    want = torch.eye(5)
    for i, j in ((0, 1), (0, 4), (1, 4)):
        p = {0: 0.7, 1: 0.5, 4: 0.4}
        want[i, j] = p[j] / (p[i] + p[j])
        want[j, i] = p[i] / (p[i] + p[j])
    torch.testing.assert_close(m, want)


def test_test_graph_keeps_the_highest_scoring_rois():
    head = make_head(max_test_nodes=512)
    gen = torch.Generator().manual_seed(0)
    n = 700
    scores = torch.rand(n, generator=gen) * 0.5 + 0.4
    probs = torch.stack([scores, (1 - scores) / 3, (1 - scores) / 3,
                         (1 - scores) / 3], 1)
    # A few background RoIs with high background scores.
    probs[:20] = torch.tensor([0.05, 0.05, 0.05, 0.85])
    image_ids = torch.zeros(n)
    image_ids[650:] = 1  # a second image with 50 foreground RoIs
    kept = head.test_nodes(probs.log(), image_ids)
    first = kept[:650]
    assert int(first.sum()) == 512
    assert not kept[:20].any()
    fg_scores = probs[20:650, 0]
    kept_scores = fg_scores[first[20:]]
    dropped = fg_scores[~first[20:]]
    assert float(kept_scores.min()) >= float(dropped.max())
    assert kept[650:].all()
    # The published code took the first 512 in proposal order: not this.
    assert not kept[20:532].all()


def test_fusion_closed_form_and_aug_weights():
    head = make_head()
    cls_score = torch.randn(4, 4)
    graph = torch.randn(4, 4)
    torch.testing.assert_close(
        head.fuse(cls_score, graph),
        0.9 * cls_score + 0.1 * F.log_softmax(graph, 1))
    torch.testing.assert_close(
        head.fuse(cls_score, graph, aug=True),
        0.7 * cls_score + 0.3 * F.log_softmax(graph, 1))


def rois_and_feats(n=10, seed=0):
    gen = torch.Generator().manual_seed(seed)
    feats = torch.randn(n, 8, 2, 2, generator=gen)
    rois = torch.cat([
        (torch.arange(n) >= n // 2).float()[:, None],
        torch.rand(n, 2, generator=gen) * 50,
        torch.rand(n, 2, generator=gen) * 20 + 4,
        torch.zeros(n, 1)
    ], 1)
    return feats, rois


def test_eval_passes_identical_train_passes_use_dropout():
    head = make_head()
    feats, rois = rois_and_feats()
    cls_score, _ = head(feats)
    head.eval()
    with torch.no_grad():
        first = head.test_logits(feats, cls_score, rois)
        second = head.test_logits(feats, cls_score, rois)
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    assert not torch.equal(first, cls_score)
    head.train()
    with torch.no_grad():
        adjacency = head.test_adjacency(cls_score, rois[:, 0])
        a = head.graph_forward(feats, adjacency)
        b = head.graph_forward(feats, adjacency)
    assert not torch.equal(a, b)


def test_graph_loss_trains_the_graph_layers():
    head = make_head()
    feats, rois = rois_and_feats()
    labels = torch.tensor([0, 0, 1, BG, BG, 2, 2, 0, BG, 1])
    weights = torch.ones(10)
    cls_score, _ = head(feats)
    before = {k: v.clone() for k, v in head.state_dict().items()}
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    losses = head.graph_loss(feats, cls_score, rois, labels, weights)
    assert set(losses) == {'loss_graph_cls', 'acc_graph'}
    losses['loss_graph_cls'].backward()
    # Edge weights detached: the graph loss does not reach the detector.
    assert head.fc_cls.weight.grad is None or not head.fc_cls.weight.grad.any()
    optimizer.step()
    after = head.state_dict()
    for name in ('graph_conv1.linear.weight', 'graph_conv2.linear.weight',
                 'graph_conv2.bias'):
        assert not torch.equal(before[name], after[name]), name
    # Its value: 0.3 x softmax CE of the graph logits.
    head.eval()
    with torch.no_grad():
        adjacency = head.train_adjacency(cls_score, labels, rois[:, 0])
        graph = head.graph_forward(feats, adjacency)
        loss = head.graph_loss(feats, cls_score, rois, labels, weights)
    torch.testing.assert_close(loss['loss_graph_cls'],
                               0.3 * F.cross_entropy(graph, labels))


def test_undetached_edges_pass_the_graph_loss_to_the_detector():
    head = make_head(detach_edges=False)
    feats, rois = rois_and_feats()
    labels = torch.tensor([0, 0, 0, 0, 0, 2, 2, 2, BG, 1])
    cls_score, _ = head(feats)
    head.graph_loss(feats, cls_score, rois, labels,
                    torch.ones(10))['loss_graph_cls'].backward()
    assert head.fc_cls.weight.grad.abs().sum() > 0

"""RotatedTOODHead: the stride-4 level's points, the regression alignment,
the ATSS -> task-aligned switch, the normalised alignment targets and a
training step."""
import math

import pytest
import torch
from mmdet.core.bbox.assigners.assign_result import AssignResult

from rotated_tod.models.dense_heads import RotatedTOODHead

TRAIN_CFG = dict(
    initial_epoch=2,
    initial_assigner=dict(type='RotatedATSSAssigner', topk=4),
    assigner=dict(type='RotatedTaskAlignedAssigner', topk=3, beta=6.0))
TEST_CFG = dict(nms_pre=100, score_thr=0.0, nms=dict(iou_thr=0.1),
                max_per_img=50)


def make_head(strides=(8, 16), train_cfg=TRAIN_CFG, **kwargs):
    torch.manual_seed(0)
    head = RotatedTOODHead(3, 16, feat_channels=16, stacked_convs=2,
                           strides=strides,
                           norm_cfg=dict(type='GN', num_groups=4),
                           train_cfg=train_cfg, test_cfg=TEST_CFG, **kwargs)
    head.init_weights()
    return head


def test_stride4_level_points_and_atss_priors():
    head = make_head(strides=(4, ))
    points, priors, counts = head.flat_priors([torch.Size((3, 5))],
                                              torch.float32, 'cpu')
    assert counts == [15]
    xs = (torch.arange(5) + 0.5) * 4
    ys = (torch.arange(3) + 0.5) * 4
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    torch.testing.assert_close(points, torch.stack(
        [grid_x.flatten(), grid_y.flatten()], 1))
    torch.testing.assert_close(priors[:, 2:],
                               torch.tensor([[32.0, 32.0, 0.0]]).expand(15, 3))
    scores, boxes = head([torch.randn(2, 16, 3, 5)])
    assert scores[0].shape == (2, 3, 3, 5) and boxes[0].shape == (2, 5, 3, 5)
    # At initialisation (weights ~ N(0, 0.01)) l ~ r and t ~ b: each box is
    # centred within a quarter stride of its point.
    centres = boxes[0][0, :2].permute(1, 2, 0).reshape(-1, 2)
    torch.testing.assert_close(centres, points, atol=1.0, rtol=0)


def test_regression_alignment_resamples_neighbouring_boxes():
    torch.manual_seed(0)
    boxes = torch.rand(1, 5, 4, 6) * 10 + 1
    boxes[:, 4] = torch.rand(1, 4, 6) * 3 - 1.5  # inside (-pi/2, pi/2)
    same = RotatedTOODHead.align_boxes(boxes, torch.zeros(1, 6, 4, 6))
    torch.testing.assert_close(same, boxes, atol=1e-5, rtol=0)
    # Centre from the right neighbour, size from below, angle unchanged.
    offsets = torch.zeros(1, 6, 4, 6)
    offsets[:, 0] = 1.0
    offsets[:, 3] = 1.0
    moved = RotatedTOODHead.align_boxes(boxes, offsets)
    torch.testing.assert_close(moved[:, :2, :, :5], boxes[:, :2, :, 1:],
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(moved[:, 2:4, :3], boxes[:, 2:4, 1:],
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(moved[:, 4], boxes[:, 4], atol=1e-5, rtol=0)


def test_doubled_angle_interpolates_across_the_wrap():
    boxes = torch.zeros(1, 5, 1, 2)
    boxes[:, 2:4] = 1
    boxes[0, 4, 0] = torch.tensor([math.pi / 2 - 0.1, -math.pi / 2 + 0.1])
    offsets = torch.zeros(1, 6, 1, 2)
    offsets[:, 4] = 0.5  # halfway between the two angles
    angle = RotatedTOODHead.align_boxes(boxes, offsets)[0, 4, 0, 0]
    assert abs(abs(angle.item()) - math.pi / 2) < 1e-5


def test_opposite_doubled_angles_mixed_half_and_half_keep_finite_gradients():
    boxes = torch.zeros(1, 5, 1, 2)
    boxes[:, 2:4] = 1
    boxes[0, 4, 0] = torch.tensor([0.0, math.pi / 2])  # 2a: 0 and pi
    boxes.requires_grad_()
    offsets = torch.zeros(1, 6, 1, 2)
    offsets[:, 4] = 0.5
    aligned = RotatedTOODHead.align_boxes(boxes, offsets)
    assert aligned[0, 4, 0, 0] == 0
    aligned.sum().backward()
    assert torch.isfinite(boxes.grad).all()


def test_phase_switch_follows_the_runner_epoch():
    head = make_head()
    with pytest.raises(RuntimeError, match='TrainProgressHook'):
        head.in_initial_phase()
    head.set_train_progress(1, 50)
    assert head.in_initial_phase()
    head.set_train_progress(2, 51)
    assert not head.in_initial_phase()


def test_iteration_switch_counts_training_steps_without_the_hook():
    head = make_head(train_cfg=dict(TRAIN_CFG, initial_epoch=0,
                                    initial_iter=2))
    head.train()
    feats = [torch.randn(1, 16, 8, 8), torch.randn(1, 16, 4, 4)]
    gts = [torch.tensor([[30.0, 30.0, 20.0, 8.0, 0.3]])]
    labels = [torch.tensor([1])]
    calls = []
    for name in ('initial_assigner', 'assigner'):
        assigner = getattr(head, name)
        original = assigner.assign

        def spy(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        assigner.assign = spy
    for _ in range(3):
        head.forward_train(feats, [{}], gts, labels)
    assert calls == ['initial_assigner', 'initial_assigner', 'assigner']
    assert int(head.num_train_steps) == 3
    head.set_train_progress(0, 1)  # the hook's iteration wins
    assert head.in_initial_phase()
    with pytest.raises(ValueError):
        make_head(train_cfg=dict(TRAIN_CFG, initial_iter=5))


def test_task_aligned_targets_are_normalised_per_gt():
    head = make_head(train_cfg=dict(TRAIN_CFG, initial_epoch=0))
    points = torch.rand(5, 2)
    scores, boxes = torch.rand(1, 5, 3), torch.rand(1, 5, 5) + 1
    gts = torch.tensor([[1.0, 1.0, 2.0, 2.0, 0.0], [3.0, 3.0, 2.0, 2.0, 0.0],
                        [6.0, 6.0, 1.0, 1.0, 0.0]])
    result = AssignResult(3, torch.tensor([1, 1, 0, 2, 3]),
                          torch.tensor([0.5, 0.8, 0.0, 0.4, 0.0]),
                          torch.tensor([2, 2, -1, 0, 1]))
    result.assign_metrics = torch.tensor([0.2, 0.1, 0.0, 0.3, 0.0])
    head.assigner.assign = lambda *args, **kwargs: result
    labels, quality, targets, weights = head.get_targets(
        points, None, [5], scores, boxes, [gts], [torch.tensor([2, 0, 1])])
    assert labels.tolist() == [[2, 2, 3, 0, 1]]
    # GT 0: t / max t * max IoU = (0.2, 0.1) / 0.2 * 0.8; GT 1: 0.3/0.3*0.4;
    # GT 2 (a fallback positive, t = 0): quality 0 but box weight 1.
    torch.testing.assert_close(quality,
                               torch.tensor([[0.8, 0.4, 0.0, 0.4, 0.0]]))
    torch.testing.assert_close(weights,
                               torch.tensor([[0.8, 0.4, 0.0, 0.4, 1.0]]))
    torch.testing.assert_close(targets[0, [0, 1, 3, 4]], gts[[0, 0, 1, 2]])


def test_train_step_and_boxes_from_both_phases():
    head = make_head(mining=dict(type='FineGrainedMining', topk=5,
                                 num_heads=2),
                     interaction=dict(type='RoIInteraction', num_rois=10,
                                      embed_dims=8, out_size=3, num_heads=2))
    feats = [torch.randn(2, 16, 8, 8, requires_grad=True),
             torch.randn(2, 16, 4, 4, requires_grad=True)]
    gts = [torch.tensor([[30.0, 30.0, 20.0, 8.0, 0.3]]),
           torch.tensor([[10.0, 40.0, 5.0, 3.0, -1.0],
                         [50.0, 20.0, 40.0, 12.0, 1.2]])]
    labels = [torch.tensor([1]), torch.tensor([0, 2])]
    guidance = [torch.rand(2, 8, 8), torch.rand(2, 4, 4)]
    head.train()
    for epoch in (0, 5):
        head.set_train_progress(epoch, 0)
        losses = head.forward_train(feats, [{}, {}], gts, labels,
                                    guidance=guidance)
        assert set(losses) == {'loss_cls', 'loss_bbox'}
        assert all(torch.isfinite(v) and v > 0 for v in losses.values())
        sum(losses.values()).backward()
        assert torch.isfinite(feats[0].grad).all()
    head.eval()
    metas = [dict(scale_factor=[2.0, 2.0, 2.0, 2.0])] * 2
    with torch.no_grad():
        plain = head.get_bboxes(*head(feats), metas)
        scaled = head.get_bboxes(*head(feats), metas, rescale=True)
    dets, det_labels = plain[0]
    assert dets.shape[1] == 6 and len(dets) == len(det_labels) > 0
    torch.testing.assert_close(scaled[0][0][:, :4], dets[:, :4] / 2)
    with torch.no_grad():
        filtered = head.get_bboxes(*head(feats), metas,
                                   cfg=dict(TEST_CFG, min_bbox_size=1e4))
    assert len(filtered[0][0]) == 0

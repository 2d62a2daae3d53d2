import pytest
import torch

from rotated_tod.models.losses import GWDLoss, SmoothWassersteinLoss
from rotated_tod.models.losses.box_loss_weight import no_positive, per_box_weight


def test_per_coordinate_weight_is_averaged():
    pred = torch.zeros(3, 5)
    weight = torch.tensor([[1.0] * 5, [0.0, 0.0, 1.0, 1.0, 3.0], [0.0] * 5])
    assert per_box_weight(weight, pred).tolist() == [1.0, 1.0, 0.0]
    per_box = torch.tensor([2.0, 0.0, 1.0])
    assert per_box_weight(per_box, pred) is per_box
    assert per_box_weight(None, pred) is None


@pytest.mark.parametrize('shape', [(3, 4), (2, ), (3, 5, 1)])
def test_other_shapes_are_errors(shape):
    with pytest.raises(ValueError, match=r'weight must be \(N,\) or \(N, 5\)'):
        per_box_weight(torch.ones(shape), torch.zeros(3, 5))


def test_no_positive_only_for_reduced_losses():
    zeros, some = torch.zeros(4), torch.tensor([0.0, 0.5])
    assert no_positive(zeros, 'mean') and no_positive(zeros, 'sum')
    assert not no_positive(zeros, 'none')
    assert not no_positive(some, 'mean')
    assert not no_positive(None, 'mean')


@pytest.mark.parametrize('loss', [GWDLoss(), SmoothWassersteinLoss()])
def test_losses_without_positives_keep_pred_in_the_graph(loss):
    pred = torch.tensor([[5.0, 5.0, 4.0, 2.0, 0.1]], requires_grad=True)
    target = torch.tensor([[6.0, 5.0, 3.0, 2.0, 0.0]])
    value = loss(pred, target, torch.zeros(1, 5))
    assert value.item() == 0.0
    value.backward()
    assert torch.equal(pred.grad, torch.zeros_like(pred))
    assert loss(pred, target, torch.ones(1)).item() > 0

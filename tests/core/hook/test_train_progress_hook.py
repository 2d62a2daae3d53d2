"""TrainProgressHook hands the runner's epoch and iteration to the model."""
from types import SimpleNamespace

import pytest
import torch
from mmcv.parallel import MMDataParallel

from rotated_tod.core.hook import TrainProgressHook


class Recorder(torch.nn.Module):

    def __init__(self):
        super().__init__()
        self.calls = []

    def set_train_progress(self, epoch, iteration):
        self.calls.append((epoch, iteration))


def test_hook_passes_epoch_and_iteration_through_wrappers():
    model = Recorder()
    hook = TrainProgressHook()
    hook.before_train_iter(SimpleNamespace(model=model, epoch=2, iter=17))
    hook.before_train_iter(
        SimpleNamespace(model=MMDataParallel(model), epoch=3, iter=18))
    assert model.calls == [(2, 17), (3, 18)]


def test_hook_rejects_a_model_without_progress():
    with pytest.raises(TypeError, match='set_train_progress'):
        TrainProgressHook().before_train_iter(
            SimpleNamespace(model=torch.nn.Linear(1, 1), epoch=0, iter=0))

"""Tells the model the runner's epoch and iteration before each training
iteration (for schedules inside a model, such as the ATSS warm-up of the
rotated task-aligned head)."""
from mmcv.parallel import is_module_wrapper
from mmcv.runner import HOOKS, Hook


@HOOKS.register_module()
class TrainProgressHook(Hook):
    """Calls ``model.set_train_progress(epoch, iter)`` with the runner's
    ``epoch`` and ``iter`` (both 0-based, counting completed ones) before
    every training iteration, so a resumed run continues in the right phase.

    Works with epoch- and iteration-based runners (an iteration-based runner
    keeps ``epoch`` at 0). Add ``dict(type='TrainProgressHook')`` to
    ``custom_hooks``.
    """

    def before_train_iter(self, runner) -> None:
        model = runner.model
        if is_module_wrapper(model):
            model = model.module
        if not hasattr(model, 'set_train_progress'):
            raise TypeError(f'{type(model).__name__} has no '
                            'set_train_progress(epoch, iter)')
        model.set_train_progress(runner.epoch, runner.iter)

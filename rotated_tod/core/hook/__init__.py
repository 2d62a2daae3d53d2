from .train_progress_hook import TrainProgressHook

__all__ = ['TrainProgressHook']

"""A rotated task-aligned one-stage detector (TOOD made oriented, ours)."""
from typing import Iterator

from mmrotate.models.builder import ROTATED_DETECTORS
from mmrotate.models.detectors.single_stage import RotatedSingleStageDetector
from torch import nn


@ROTATED_DETECTORS.register_module()
class RotatedTOOD(RotatedSingleStageDetector):
    """Backbone + FPN + :class:`RotatedTOODHead` (our oriented design after
    TOOD, C. Feng et al., ICCV 2021; mmrotate 0.3.4 has none).

    Forwards the runner's progress to its heads (:meth:`set_train_progress`,
    called by ``TrainProgressHook``), which switch from ATSS to task-aligned
    assignment after ``initial_epoch`` / ``initial_iter``.
    """

    def heads(self) -> Iterator[nn.Module]:
        """The detection heads (one here)."""
        yield self.bbox_head

    def set_train_progress(self, epoch: int, iteration: int) -> None:
        """Pass the runner's epoch and iteration to every head."""
        for head in self.heads():
            head.set_train_progress(epoch, iteration)

"""A test-only hook: each rank saves its final parameters (to compare ranks).

BatchNorm running statistics are buffers each rank updates from its own
batches (mmdet trains with ``broadcast_buffers=False``; its distributed
evaluation broadcasts rank 0's), so only parameters must agree."""
import os

import torch
from mmcv.runner import HOOKS, Hook, get_dist_info


@HOOKS.register_module()
class SaveRankWeightsHook(Hook):

    def after_run(self, runner) -> None:
        rank, _ = get_dist_info()
        model = runner.model.module if hasattr(runner.model,
                                               'module') else runner.model
        torch.save({n: p.detach() for n, p in model.named_parameters()},
                   os.path.join(runner.work_dir, f'rank{rank}_weights.pth'))

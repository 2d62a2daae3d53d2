"""Fixes for mmrotate 0.3.4 / mmdet 2.28 defects on machines without CUDA
and on numpy 2, applied once when :mod:`rotated_tod` is imported.

Each fix replaces one upstream function by a corrected one and is covered by
a test in ``tests/test_compat.py`` that fails without it. Nothing in
site-packages is edited. The fixes:

1. ``RotatedAnchorHead.get_anchors`` passes ``device`` positionally to
   mmdet 2.28's ``grid_priors(featmap_sizes, dtype, device)``, so the device
   lands in ``dtype`` and anchors are made on CUDA ("Found no NVIDIA driver").
2. ``mmrotate.datasets.dota._merge_func`` moves detections to CUDA inside
   forked worker processes (CUDA cannot be initialised after fork); the merge
   is CPU work.
3. ``DOTADataset.format_results`` crashes (``UnboundLocalError``) when no
   ``submission_dir`` is given.
4. ``mmrotate.apis.train_detector`` always moves the model to CUDA; it is redirected
   to :func:`rotated_tod.apis.train_detector`, which takes the device from the
   machine.
5. mmdet's ``multi_gpu_test`` gathers results through CUDA tensors when no
   ``tmpdir`` is given or with ``gpu_collect``; it is redirected to
   :func:`rotated_tod.apis.multi_device_test`, which gathers on any backend.
6. mmcv's ``MMDistributedDataParallel._run_ddp_forward`` (every forward
   through DDP, e.g. distributed testing) reads ``_use_replicated_tensor_module``,
   an attribute torch 2 no longer has.
7. mmcv's ``IterBasedRunner.save_checkpoint`` writes ``iter_{n}.pth`` after
   ``n`` iterations but records ``meta['iter'] = n - 1``, so a resumed run
   repeats iteration ``n`` (one extra optimizer step on another batch).
8. mmdet's ``sync_random_seed`` (its distributed samplers) broadcasts the
   seed as a CUDA tensor, which a gloo (CPU) process group cannot send.
9. numpy 2 removed ``np.int`` and ``np.int0``: mmdet's
   ``CustomDataset.get_cat_ids`` (class-balanced sampling) and mmrotate's
   ``draw_rbboxes`` (result drawing, ``show_result``) use them.
"""
import os
import tempfile
from typing import List, Sequence

import numpy as np
import torch

_APPLIED = False
#: The upstream functions each fix replaced, by fix name (tests call them to
#: show the defect is still upstream).
ORIGINALS: dict = {}


def rotated_anchor_head_get_anchors(self, featmap_sizes: List[tuple],
                                    img_metas: List[dict],
                                    device='cpu') -> tuple:
    """``RotatedAnchorHead.get_anchors`` with the device passed by keyword."""
    multi_level_anchors = self.anchor_generator.grid_priors(
        featmap_sizes, device=device)
    anchor_list = [multi_level_anchors for _ in img_metas]
    valid_flag_list = [
        self.anchor_generator.valid_flags(featmap_sizes, meta['pad_shape'],
                                          device) for meta in img_metas
    ]
    return anchor_list, valid_flag_list


def dota_merge_func(info: tuple, CLASSES: Sequence[str],
                    iou_thr: float) -> tuple:
    """mmrotate's per-image patch merge, on the CPU only."""
    from mmcv.ops import nms_rotated
    img_id, label_dets = info
    label_dets = np.concatenate(label_dets, axis=0)
    labels, dets = label_dets[:, 0], label_dets[:, 1:]
    merged = []
    for i in range(len(CLASSES)):
        cls_dets = dets[labels == i]
        if len(cls_dets) == 0:
            merged.append(cls_dets)
            continue
        cls_dets = torch.from_numpy(cls_dets)
        nms_dets, _ = nms_rotated(cls_dets[:, :5], cls_dets[:, -1], iou_thr)
        merged.append(nms_dets.numpy())
    return img_id, merged


def dota_format_results(self, results: list, submission_dir: str = None,
                        nproc: int = 4) -> tuple:
    """``DOTADataset.format_results`` that makes (and returns) a temporary
    folder when no ``submission_dir`` is given, instead of crashing."""
    if not isinstance(results, list):
        raise TypeError('results must be a list')
    if len(results) != len(self):
        raise ValueError(f'The length of results is not equal to the dataset '
                         f'len: {len(results)} != {len(self)}')
    tmp_dir = None
    if submission_dir is None:
        tmp_dir = tempfile.TemporaryDirectory()
        # mmrotate's writer insists on a folder that does not exist yet.
        submission_dir = os.path.join(tmp_dir.name, 'submission')
    nproc = max(1, min(nproc, os.cpu_count() or 1))
    id_list, dets_list = self.merge_det(results, nproc)
    result_files = self._results2submission(id_list, dets_list,
                                            submission_dir)
    return result_files, tmp_dir


def mmddp_run_ddp_forward(self, *inputs, **kwargs):
    """``MMDistributedDataParallel._run_ddp_forward`` for torch 2: the module
    itself runs the forward (the replicated-tensor path is gone)."""
    if self.device_ids:
        inputs, kwargs = self.to_kwargs(inputs, kwargs, self.device_ids[0])
        return self.module(*inputs[0], **kwargs[0])
    return self.module(*inputs, **kwargs)


def iter_runner_save_checkpoint(self,
                                out_dir: str,
                                filename_tmpl: str = 'iter_{}.pth',
                                meta: dict = None,
                                save_optimizer: bool = True,
                                create_symlink: bool = True) -> None:
    """``IterBasedRunner.save_checkpoint`` recording the number of finished
    iterations (the one in the file name), so ``resume`` continues after it.
    Checkpoints are saved from ``after_train_iter`` hooks, before the runner
    counts the iteration."""
    import os.path as osp
    import platform
    import shutil

    import mmcv
    from mmcv.runner.checkpoint import save_checkpoint
    meta = {} if meta is None else dict(meta)
    if self.meta is not None:
        meta.update(self.meta)
    meta.update(epoch=self.epoch + 1, iter=self.iter + 1)
    filename = filename_tmpl.format(self.iter + 1)
    filepath = osp.join(out_dir, filename)
    save_checkpoint(self.model, filepath,
                    optimizer=self.optimizer if save_optimizer else None,
                    meta=meta)
    if create_symlink:
        latest = osp.join(out_dir, 'latest.pth')
        if platform.system() != 'Windows':
            mmcv.symlink(filename, latest)
        else:
            shutil.copy(filepath, latest)


def sync_random_seed(seed: int = None, device=None) -> int:
    """mmdet's ``sync_random_seed`` with the tensor on the device the
    process group's backend communicates from (CPU for gloo), whatever
    ``device`` the caller defaulted to."""
    import torch.distributed as dist
    from mmcv.runner import get_dist_info
    if seed is None:
        seed = np.random.randint(2**31)
    _, world_size = get_dist_info()
    if world_size == 1:
        return seed
    device = 'cuda' if dist.get_backend() == 'nccl' else 'cpu'
    value = torch.tensor(seed, dtype=torch.int32, device=device)
    dist.broadcast(value, src=0)
    return int(value.item())


def custom_dataset_get_cat_ids(self, idx: int) -> List[int]:
    """``CustomDataset.get_cat_ids`` without numpy 2's removed ``np.int``."""
    return self.get_ann_info(idx)['labels'].astype(np.int64).tolist()


def draw_rbboxes(ax, bboxes: np.ndarray, color='g', alpha: float = 0.8,
                 thickness: int = 2):
    """mmrotate's ``draw_rbboxes`` without numpy 2's removed ``np.int0``."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Polygon

    from .core.bbox.transforms import obb2poly
    polygons = [
        Polygon(np.asarray(p, np.intp).reshape(4, 2))
        for p in obb2poly(np.asarray(bboxes, np.float64)[:, :5])
    ]
    ax.add_collection(
        PatchCollection(polygons, facecolor='none', edgecolors=color,
                        linewidths=thickness, alpha=alpha))
    return ax


def apply() -> None:
    """Install every fix (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    import mmdet.apis
    import mmdet.datasets.custom as mmdet_custom
    import mmdet.datasets.samplers.class_aware_sampler as class_aware_sampler
    import mmdet.datasets.samplers.distributed_sampler as distributed_sampler
    import mmdet.datasets.samplers.infinite_sampler as infinite_sampler
    import mmrotate.apis
    import mmrotate.apis.train
    import mmrotate.core.visualization.image as mmrotate_image
    import mmrotate.datasets.dota as mmrotate_dota
    from mmcv.parallel import MMDistributedDataParallel
    from mmcv.runner import IterBasedRunner
    from mmrotate.models.dense_heads.rotated_anchor_head import RotatedAnchorHead

    from .apis.test import multi_device_test
    from .apis.train import train_detector

    replacements = [
        ('get_anchors', RotatedAnchorHead, 'get_anchors',
         rotated_anchor_head_get_anchors),
        ('merge_func', mmrotate_dota, '_merge_func', dota_merge_func),
        ('format_results', mmrotate_dota.DOTADataset, 'format_results',
         dota_format_results),
        ('train_detector', mmrotate.apis, 'train_detector', train_detector),
        ('train_detector_module', mmrotate.apis.train, 'train_detector',
         train_detector),
        ('multi_gpu_test', mmdet.apis, 'multi_gpu_test', multi_device_test),
        ('ddp_forward', MMDistributedDataParallel, '_run_ddp_forward',
         mmddp_run_ddp_forward),
        ('iter_checkpoint', IterBasedRunner, 'save_checkpoint',
         iter_runner_save_checkpoint),
        ('sync_random_seed', distributed_sampler, 'sync_random_seed',
         sync_random_seed),
        ('sync_random_seed_class_aware', class_aware_sampler,
         'sync_random_seed', sync_random_seed),
        ('sync_random_seed_infinite', infinite_sampler, 'sync_random_seed',
         sync_random_seed),
        ('get_cat_ids', mmdet_custom.CustomDataset, 'get_cat_ids',
         custom_dataset_get_cat_ids),
        ('draw_rbboxes', mmrotate_image, 'draw_rbboxes', draw_rbboxes),
    ]
    for name, owner, attr, fixed in replacements:
        ORIGINALS[name] = getattr(owner, attr)
        setattr(owner, attr, fixed)
    _APPLIED = True

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
10. mmrotate's ``multiclass_nms_rotated`` ignores ``nms.type``: every
    mmrotate head that imports it (``NMS_HEAD_MODULES``), and
    ``mmrotate.core`` itself, get
    :func:`rotated_tod.core.post_processing.nms.multiclass_nms_rotated`,
    so ``test_cfg.nms=dict(type='gaussian' | 'soft_rotated', ...)`` works in
    any rotated detector (without a type it is mmrotate's function).
11. mmcv-full 1.7.2 ops with a CUDA kernel only ("implementation for device
    cpu not found"): ``diff_iou_rotated_2d`` (mmrotate's ``RotatedIoULoss``),
    ``convex_iou``, ``convex_giou``, ``min_area_polygons``,
    ``points_in_polygons`` (the RepPoints family and its assigners) and
    ``RiRoIAlignRotated`` (ReDet). Each name, wherever mmcv or mmrotate
    binds it, becomes a dispatcher (:func:`cpu_fallback`) that calls
    :mod:`rotated_tod.ops` for CPU tensors and mmcv's kernel for CUDA ones;
    ``chamfer_distance`` (Oriented RepPoints' point-set quality) too.
12. The RepPoints heads' ``get_points`` (Rotated / Oriented / SAM RepPoints)
    make their valid flags without a device, so on mmdet's default CUDA.
13. ``BCConvexGIoULossFuction.forward`` (SASM's loss) moves two terms to
    CUDA unconditionally (a hard-coded device move).
14. ``CSLRFCOSHead`` reads ``self.seprate_angle`` (sic), which nothing sets
    (its parent sets ``separate_angle``), so the shipped CSL FCOS config
    cannot train on any device; the misspelt name becomes an alias.
"""
import functools
import os
import sys
import tempfile
from typing import Callable, List, Sequence

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

    from .core.bbox.transforms import rbox_to_polygon
    polygons = [
        Polygon(np.asarray(p, np.intp).reshape(4, 2))
        for p in rbox_to_polygon(np.asarray(bboxes, np.float64)[:, :5])
    ]
    ax.add_collection(
        PatchCollection(polygons, facecolor='none', edgecolors=color,
                        linewidths=thickness, alpha=alpha))
    return ax


#: mmrotate modules that bind ``multiclass_nms_rotated`` as a module global
#: when imported (``from mmrotate.core import ...``), plus mmrotate.core's
#: exports (for code that imports it later).
NMS_HEAD_MODULES = (
    'mmrotate.core',
    'mmrotate.core.post_processing',
    'mmrotate.models.dense_heads.rotated_anchor_head',
    'mmrotate.models.dense_heads.rotated_fcos_head',
    'mmrotate.models.dense_heads.csl_rotated_fcos_head',
    'mmrotate.models.dense_heads.csl_rotated_retina_head',
    'mmrotate.models.dense_heads.rotated_reppoints_head',
    'mmrotate.models.dense_heads.oriented_reppoints_head',
    'mmrotate.models.dense_heads.sam_reppoints_head',
    'mmrotate.models.roi_heads.bbox_heads.rotated_bbox_head',
    'mmrotate.models.roi_heads.bbox_heads.gv_bbox_head',
)

#: The CUDA-only mmcv functions replaced by :func:`cpu_fallback`, by name
#: (their module in mmcv.ops, their CPU implementation in rotated_tod.ops).
CPU_OPS = {
    'diff_iou_rotated_2d': 'mmcv.ops.diff_iou_rotated',
    'convex_iou': 'mmcv.ops.convex_iou',
    'convex_giou': 'mmcv.ops.convex_iou',
    'min_area_polygons': 'mmcv.ops.min_area_polygons',
    'points_in_polygons': 'mmcv.ops.points_in_polygons',
    'chamfer_distance': 'mmcv.ops.chamfer_distance',
}


def cpu_fallback(cpu_op: Callable, cuda_op: Callable) -> Callable:
    """``cuda_op`` (an mmcv op with only a CUDA kernel) when its first
    tensor argument is on CUDA, ``cpu_op`` (same signature) otherwise."""

    @functools.wraps(cuda_op)
    def op(*args, **kwargs):
        tensors = [a for a in (*args, *kwargs.values()) if torch.is_tensor(a)]
        if tensors and tensors[0].is_cuda:
            return cuda_op(*args, **kwargs)
        return cpu_op(*args, **kwargs)

    op.cpu_op = cpu_op
    return op


def riroi_align_rotated_forward(self, features: torch.Tensor,
                                rois: torch.Tensor) -> torch.Tensor:
    """``RiRoIAlignRotated.forward`` with :mod:`rotated_tod.ops` on CPU."""
    if features.is_cuda:
        return ORIGINALS['riroi_align_rotated'](self, features, rois)
    from .ops import riroi_align_rotated
    return riroi_align_rotated(features, rois, self.out_size,
                               self.spatial_scale, self.num_samples,
                               self.num_orientations, self.clockwise)


def reppoints_get_points(self, featmap_sizes: List[tuple],
                         img_metas: List[dict], device) -> tuple:
    """The RepPoints heads' ``get_points`` with the valid flags made on
    ``device`` (upstream leaves them on mmdet's default, CUDA)."""
    points = self.prior_generator.grid_priors(featmap_sizes, device=device,
                                              with_stride=True)
    points_list = [[p.clone() for p in points] for _ in img_metas]
    valid_flag_list = [
        self.prior_generator.valid_flags(featmap_sizes, meta['pad_shape'],
                                         device=device) for meta in img_metas
    ]
    return points_list, valid_flag_list


def bc_convex_giou_forward(ctx, pred: torch.Tensor, target: torch.Tensor,
                           weight=None, reduction=None, avg_factor=None,
                           loss_weight: float = 1.0) -> torch.Tensor:
    """``BCConvexGIoULossFuction.forward`` (SASM) with its smooth-L1 terms
    left on the device of ``pred`` instead of moved to CUDA; the
    same loss and gradient otherwise: ``w (L_centre + L_corners) + 1 -
    (1 - 2 w) GIoU`` with ``w = exp(-aspect / 4)`` of the target, the
    smooth-L1 (beta 1) of the point-set / target centres and of their
    leftmost, topmost, rightmost and bottommost points, each summed over
    coordinates and averaged over the pairs."""
    from mmcv.ops import convex_giou
    from mmrotate.models.losses.convex_giou_loss import AspectRatio

    ctx.save_for_backward(pred)
    gious, grad = convex_giou(pred, target)

    def extremes(points: torch.Tensor) -> torch.Tensor:
        xs, ys = points[:, 0::2], points[:, 1::2]
        picks = (xs.min(1, keepdim=True)[1], ys.min(1, keepdim=True)[1],
                 xs.max(1, keepdim=True)[1], ys.max(1, keepdim=True)[1])
        return torch.cat([torch.cat([xs.gather(1, i), ys.gather(1, i)], 1)
                          for i in picks], 1)

    def centre(points: torch.Tensor) -> torch.Tensor:
        return torch.stack([points[:, 0::2].mean(1), points[:, 1::2].mean(1)],
                           1)

    def smooth_l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        diff = (a - b).abs()
        loss = torch.where(diff < 1.0, 0.5 * diff * diff, diff - 0.5)
        return loss.sum() / len(loss)

    centre_loss = smooth_l1(centre(pred), centre(target))
    corner_loss = smooth_l1(extremes(pred), extremes(target))
    smooth_weight = torch.exp(-0.25 * AspectRatio(target))
    loss = (smooth_weight * (centre_loss.reshape(-1, 1) +
                             corner_loss.reshape(-1, 1)) + 1 -
            (1 - 2 * smooth_weight) * gious)
    if weight is not None:
        loss = loss * weight
        grad = grad * weight.reshape(-1, 1)
    if reduction == 'sum':
        loss = loss.sum()
    elif reduction == 'mean':
        loss = loss.mean()
    # As upstream: rows with a gradient component above 1 are damped.
    grad[torch.nonzero((grad > 1).sum(1), as_tuple=False)[:, 0]] = 1e-6
    ctx.convex_points_grad = -grad / grad.size(0) * loss_weight
    return loss


def _binding_modules(name: str, original: Callable) -> List:
    """Every loaded mmcv / mmrotate module whose global ``name`` is
    ``original`` (``from mmcv.ops import name`` copies the binding)."""
    return [
        module for key, module in sorted(sys.modules.items())
        if key.split('.')[0] in ('mmcv', 'mmrotate') and module is not None
        and getattr(module, name, None) is original
    ]


def _op_replacements() -> list:
    """Rows of :func:`apply`'s table for fixes 10 to 14."""
    import importlib

    import mmrotate.models  # noqa: F401  (imports every head and loss)
    from mmcv.ops import RiRoIAlignRotated
    from mmrotate.models.dense_heads import (
        CSLRFCOSHead,
        OrientedRepPointsHead,
        RotatedRepPointsHead,
        SAMRepPointsHead,
    )
    from mmrotate.models.losses.convex_giou_loss import BCConvexGIoULossFuction

    from . import ops
    from .core.post_processing.nms import multiclass_nms_rotated

    rows = [(f'multiclass_nms_rotated:{name}',
             importlib.import_module(name), 'multiclass_nms_rotated',
             multiclass_nms_rotated) for name in NMS_HEAD_MODULES]
    for name, home in CPU_OPS.items():
        original = getattr(importlib.import_module(home), name)
        fixed = cpu_fallback(getattr(ops, name), original)
        ORIGINALS[name] = original
        rows += [(f'{name}:{module.__name__}', module, name, fixed)
                 for module in _binding_modules(name, original)]
    rows.append(('riroi_align_rotated', RiRoIAlignRotated, 'forward',
                 riroi_align_rotated_forward))
    rows += [(f'get_points:{head.__name__}', head, 'get_points',
              reppoints_get_points)
             for head in (OrientedRepPointsHead, RotatedRepPointsHead,
                          SAMRepPointsHead)]
    rows.append(('bc_convex_giou', BCConvexGIoULossFuction, 'forward',
                 staticmethod(bc_convex_giou_forward)))
    rows.append(('csl_fcos_seprate_angle', CSLRFCOSHead, 'seprate_angle',
                 property(lambda self: self.separate_angle)))
    return rows


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
    for name, owner, attr, fixed in replacements + _op_replacements():
        ORIGINALS[name] = getattr(owner, attr, None)
        setattr(owner, attr, fixed)
    _APPLIED = True

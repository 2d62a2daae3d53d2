"""Testing entry points that run on CPU and GPU alike."""
import os.path as osp
from typing import Optional, Sequence, Union

import mmcv
import torch
import torch.distributed as dist
from mmcv import Config
from mmcv.runner import get_dist_info, load_checkpoint
from mmdet.apis import single_gpu_test
from mmdet.datasets import build_dataloader, replace_ImageToTensor
from mmrotate.datasets import build_dataset
from mmrotate.models import build_detector

from .train import init_distributed, prepare_config, wrap_model


def multi_device_test(model: torch.nn.Module,
                      data_loader,
                      tmpdir: Optional[str] = None,
                      gpu_collect: bool = False) -> Optional[list]:
    """Distributed inference whose results are gathered with
    ``all_gather_object`` (any backend, gloo included), unlike mmdet's
    ``multi_gpu_test`` which gathers through CUDA tensors.

    Returns the results in dataset order on rank 0, ``None`` elsewhere.
    ``tmpdir`` and ``gpu_collect`` are accepted for mmdet compatibility.
    """
    model.eval()
    rank, world_size = get_dist_info()
    dataset = data_loader.dataset
    prog_bar = mmcv.ProgressBar(len(dataset)) if rank == 0 else None
    part = []
    for data in data_loader:
        with torch.no_grad():
            result = model(return_loss=False, rescale=True, **data)
        part.extend(result)
        if prog_bar is not None:
            for _ in range(len(result) * world_size):
                prog_bar.update()
    parts = [None] * world_size
    dist.all_gather_object(parts, part)
    if rank != 0:
        return None
    ordered = [res for group in zip(*parts) for res in group]
    return ordered[:len(dataset)]


def test_from_config(config: Union[str, Config],
                     checkpoint: str,
                     eval_metrics: Optional[Sequence[str]] = None,
                     format_only: bool = False,
                     submission_dir: Optional[str] = None,
                     show_dir: Optional[str] = None,
                     show_score_thr: float = 0.3,
                     out: Optional[str] = None,
                     launcher: str = 'none',
                     cfg_options: Optional[dict] = None,
                     eval_options: Optional[dict] = None) -> Optional[dict]:
    """What ``tools/test.py`` does. Returns the evaluation dict (rank 0)."""
    cfg = prepare_config(config, None, cfg_options)
    cfg.model.pretrained = None
    if cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None
    distributed = launcher != 'none'
    if distributed:
        init_distributed(launcher, cfg.device, cfg.get('dist_params', {}))
    rank, _ = get_dist_info()

    test_cfg = cfg.data.test
    test_cfg.test_mode = True
    loader_cfg = dict(samples_per_gpu=1, workers_per_gpu=2,
                      dist=distributed, shuffle=False)
    loader_cfg.update(cfg.data.get('test_dataloader', {}))
    if loader_cfg['samples_per_gpu'] > 1:
        test_cfg.pipeline = replace_ImageToTensor(test_cfg.pipeline)
    dataset = build_dataset(test_cfg)
    data_loader = build_dataloader(dataset, **loader_cfg)

    model = build_detector(cfg.model, test_cfg=cfg.get('test_cfg'))
    ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
    model.CLASSES = ckpt.get('meta', {}).get('CLASSES', dataset.CLASSES)
    model = wrap_model(model, cfg.device, distributed)
    if distributed:
        results = multi_device_test(model, data_loader)
    else:
        results = single_gpu_test(model, data_loader, False, show_dir,
                                  show_score_thr)
    if rank != 0:
        return None
    if out:
        mmcv.dump(results, out)
    kwargs = dict(eval_options or {})
    if format_only:
        if submission_dir is not None:
            kwargs['submission_dir'] = submission_dir
        dataset.format_results(results, **kwargs)
        print(f'\nsubmission files written to {submission_dir}')
        return None
    if eval_metrics:
        eval_kwargs = dict(cfg.get('evaluation', {}))
        for key in ('interval', 'tmpdir', 'start', 'gpu_collect', 'save_best',
                    'rule', 'dynamic_intervals', 'by_epoch'):
            eval_kwargs.pop(key, None)
        eval_kwargs.update(kwargs)
        eval_kwargs['metric'] = list(eval_metrics)
        metrics = dataset.evaluate(results, **eval_kwargs)
        print(metrics)
        if cfg.get('work_dir'):
            mmcv.mkdir_or_exist(cfg.work_dir)
            mmcv.dump(
                dict(config=str(config), metric=metrics),
                osp.join(cfg.work_dir, 'eval_results.json'))
        return metrics
    return None

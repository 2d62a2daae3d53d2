"""Training entry points that run on CPU and GPU alike.

mmrotate 0.3.4's ``train_detector`` always moves the model to CUDA and mmdet
2.28's ``build_ddp`` refuses the CPU; here the device comes from the machine
(or ``cfg.device``) and distributed CPU training runs over gloo.
"""
import copy
import os
import os.path as osp
import time
from typing import List, Optional, Sequence, Union

import mmcv
import torch
import torch.distributed as dist
from mmcv import Config
from mmcv.parallel import MMDataParallel, MMDistributedDataParallel
from mmcv.parallel.scatter_gather import scatter_kwargs
from mmcv.runner import (
    DistSamplerSeedHook,
    EpochBasedRunner,
    Fp16OptimizerHook,
    OptimizerHook,
    build_optimizer,
    build_runner,
    get_dist_info,
    init_dist,
)
from mmdet.core import DistEvalHook, EvalHook
from mmdet.datasets import build_dataloader, replace_ImageToTensor
from mmdet.utils import compat_cfg, find_latest_checkpoint
from mmrotate.datasets import build_dataset
from mmrotate.models import build_detector
from mmrotate.utils import get_root_logger


def default_device() -> str:
    """``'cuda'`` when a GPU is visible, else ``'cpu'``."""
    return 'cuda' if torch.cuda.is_available() else 'cpu'


class CPUDistributedDataParallel(MMDistributedDataParallel):
    """mmcv's ``MMDistributedDataParallel`` for processes without a GPU.

    mmcv only unwraps ``DataContainer`` batches when ``device_ids`` is set
    (a GPU); here every entry point scatters them to the CPU first.
    """

    def _to_cpu(self, inputs: tuple, kwargs: dict) -> tuple:
        inputs, kwargs = scatter_kwargs(inputs, kwargs, [-1], dim=self.dim)
        return inputs[0], kwargs[0]

    def train_step(self, *inputs, **kwargs):
        inputs, kwargs = self._to_cpu(inputs, kwargs)
        return super().train_step(*inputs, **kwargs)

    def val_step(self, *inputs, **kwargs):
        inputs, kwargs = self._to_cpu(inputs, kwargs)
        return super().val_step(*inputs, **kwargs)

    def _run_ddp_forward(self, *inputs, **kwargs):
        inputs, kwargs = self._to_cpu(inputs, kwargs)
        return self.module(*inputs, **kwargs)


def wrap_model(model: torch.nn.Module, device: str, distributed: bool,
               find_unused_parameters: bool = False) -> torch.nn.Module:
    """Put ``model`` on ``device`` inside mmcv's (distributed) data parallel.

    On the CPU ``MMDistributedDataParallel`` takes ``device_ids=None``; on a
    GPU each process uses the device of its ``LOCAL_RANK``.
    """
    if distributed:
        if device == 'cuda':
            local_rank = int(os.environ.get('LOCAL_RANK', 0))
            torch.cuda.set_device(local_rank)
            return MMDistributedDataParallel(
                model.cuda(local_rank), device_ids=[local_rank],
                broadcast_buffers=False,
                find_unused_parameters=find_unused_parameters)
        return CPUDistributedDataParallel(
            model, device_ids=None, broadcast_buffers=False,
            find_unused_parameters=find_unused_parameters)
    if device == 'cuda':
        return MMDataParallel(model.cuda(0), device_ids=[0])
    return MMDataParallel(model.to(device), device_ids=None)


def init_distributed(launcher: str, device: str, dist_params: dict) -> None:
    """Start the process group: nccl on GPU, gloo on CPU (``dist_params``'
    other settings kept). mmcv's ``init_dist('pytorch')`` binds each rank to
    a GPU, so on the CPU the torchrun environment is read directly."""
    params = dict(dist_params)
    params['backend'] = 'nccl' if device == 'cuda' else 'gloo'
    if launcher == 'pytorch' and device != 'cuda':
        dist.init_process_group(backend=params['backend'])
    else:
        init_dist(launcher, **params)


def train_detector(model: torch.nn.Module,
                   dataset: Union[torch.utils.data.Dataset, Sequence],
                   cfg: Config,
                   distributed: bool = False,
                   validate: bool = False,
                   timestamp: Optional[str] = None,
                   meta: Optional[dict] = None) -> None:
    """Train ``model`` as mmrotate's ``train_detector`` does, on
    ``cfg.device`` (default: the machine's) instead of always on CUDA."""
    cfg = compat_cfg(cfg)
    device = cfg.get('device') or default_device()
    logger = get_root_logger(log_level=cfg.log_level)
    datasets = dataset if isinstance(dataset, (list, tuple)) else [dataset]
    runner_type = cfg.runner['type'] if 'runner' in cfg else 'EpochBasedRunner'

    loader_cfg = dict(
        samples_per_gpu=2,
        workers_per_gpu=2,
        num_gpus=1,
        dist=distributed,
        seed=cfg.seed,
        runner_type=runner_type,
        persistent_workers=False)
    loader_cfg.update(cfg.data.get('train_dataloader', {}))
    data_loaders = [build_dataloader(ds, **loader_cfg) for ds in datasets]

    model = wrap_model(model, device, distributed,
                       cfg.get('find_unused_parameters', False))
    optimizer = build_optimizer(model, cfg.optimizer)
    runner = build_runner(
        cfg.runner,
        default_args=dict(
            model=model,
            optimizer=optimizer,
            work_dir=cfg.work_dir,
            logger=logger,
            meta=meta))
    runner.timestamp = timestamp

    fp16_cfg = cfg.get('fp16', None)
    if fp16_cfg is not None:
        optimizer_config = Fp16OptimizerHook(
            **cfg.optimizer_config, **fp16_cfg, distributed=distributed)
    elif distributed and 'type' not in cfg.optimizer_config:
        optimizer_config = OptimizerHook(**cfg.optimizer_config)
    else:
        optimizer_config = cfg.optimizer_config
    runner.register_training_hooks(
        cfg.lr_config,
        optimizer_config,
        cfg.checkpoint_config,
        cfg.log_config,
        cfg.get('momentum_config', None),
        custom_hooks_config=cfg.get('custom_hooks', None))
    if distributed and isinstance(runner, EpochBasedRunner):
        runner.register_hook(DistSamplerSeedHook())

    if validate:
        val_loader_cfg = dict(
            samples_per_gpu=1,
            workers_per_gpu=2,
            dist=distributed,
            shuffle=False,
            persistent_workers=False)
        val_loader_cfg.update(cfg.data.get('val_dataloader', {}))
        if val_loader_cfg['samples_per_gpu'] > 1:
            cfg.data.val.pipeline = replace_ImageToTensor(
                cfg.data.val.pipeline)
        val_dataset = build_dataset(cfg.data.val, dict(test_mode=True))
        val_loader = build_dataloader(val_dataset, **val_loader_cfg)
        eval_cfg = copy.deepcopy(cfg.get('evaluation', {}))
        eval_cfg['by_epoch'] = runner_type != 'IterBasedRunner'
        hook = DistEvalHook if distributed else EvalHook
        runner.register_hook(hook(val_loader, **eval_cfg), priority='LOW')

    resume_from = cfg.get('resume_from')
    if resume_from is None and cfg.get('auto_resume'):
        resume_from = find_latest_checkpoint(cfg.work_dir)
    if resume_from:
        runner.resume(resume_from, map_location=device)
    elif cfg.get('load_from'):
        runner.load_checkpoint(cfg.load_from, map_location=device)
    runner.run(data_loaders, cfg.workflow)


def prepare_config(config: Union[str, Config],
                   work_dir: Optional[str] = None,
                   cfg_options: Optional[dict] = None) -> Config:
    """Load a config, merge overrides and fill in ``work_dir``/``device``."""
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get('custom_imports'):
        from mmcv.utils import import_modules_from_strings
        import_modules_from_strings(**cfg.custom_imports)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        name = osp.splitext(osp.basename(config))[0] if isinstance(
            config, str) else 'run'
        cfg.work_dir = osp.join('work_dirs', name)
    cfg.device = cfg.get('device') or default_device()
    cfg.gpu_ids = [0]
    return cfg


def train_from_config(config: Union[str, Config],
                      work_dir: Optional[str] = None,
                      resume_from: Optional[str] = None,
                      auto_resume: bool = False,
                      cfg_options: Optional[dict] = None,
                      launcher: str = 'none',
                      seed: Optional[int] = 0,
                      deterministic: bool = False,
                      validate: bool = True) -> List[str]:
    """What ``tools/train.py`` does: build model and data from a config,
    train, and return the checkpoints written in ``work_dir``.

    ``launcher='pytorch'`` reads the ``torchrun`` environment and uses the
    gloo backend on CPU, nccl on GPU.
    """
    from mmdet.apis import set_random_seed

    cfg = prepare_config(config, work_dir, cfg_options)
    cfg.resume_from = resume_from or cfg.get('resume_from')
    cfg.auto_resume = auto_resume
    distributed = launcher != 'none'
    if distributed:
        init_distributed(launcher, cfg.device, cfg.get('dist_params', {}))
        _, world_size = get_dist_info()
        cfg.gpu_ids = list(range(world_size))
    rank, _ = get_dist_info()

    mmcv.mkdir_or_exist(osp.abspath(cfg.work_dir))
    if rank == 0 and isinstance(config, str):
        cfg.dump(osp.join(cfg.work_dir, osp.basename(config)))
    timestamp = time.strftime('%Y%m%d_%H%M%S', time.localtime())
    logger = get_root_logger(
        log_file=osp.join(cfg.work_dir, f'{timestamp}.log'),
        log_level=cfg.log_level)
    logger.info(f'Distributed training: {distributed}, device: {cfg.device}')
    logger.info(f'Config:\n{cfg.pretty_text}')

    seed = 0 if seed is None else seed
    set_random_seed(seed, deterministic=deterministic)
    cfg.seed = seed
    meta = dict(seed=seed, exp_name=osp.basename(str(config)),
                config=cfg.pretty_text)

    model = build_detector(
        cfg.model, train_cfg=cfg.get('train_cfg'),
        test_cfg=cfg.get('test_cfg'))
    model.init_weights()
    datasets = [build_dataset(cfg.data.train)]
    if cfg.checkpoint_config is not None:
        cfg.checkpoint_config.meta = dict(CLASSES=datasets[0].CLASSES)
    model.CLASSES = datasets[0].CLASSES
    train_detector(
        model,
        datasets,
        cfg,
        distributed=distributed,
        validate=validate,
        timestamp=timestamp,
        meta=meta)
    return sorted(
        osp.join(cfg.work_dir, f) for f in os.listdir(cfg.work_dir)
        if f.endswith('.pth') and f != 'latest.pth')

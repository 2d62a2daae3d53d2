"""The method leaderboard: every method row trained and evaluated on one
common budget, on the synthetic suite and the real harbour suite.

A row (see ``bench/leaderboard_rows.py``) names a config; only its ``model``
is used. The leaderboard imposes on it (:func:`impose_budget`):

- the backbone: ResNet-18 with ``backbone_width`` base channels, from scratch
  (no pretrained weights), BN in training mode;
- the neck's input channels (from the backbone's ``out_indices``) and every
  channel count of the neck and heads equal to the config's FPN width
  (``in_channels``, ``feat_channels``, ``out_channels`` of the heads and RoI
  extractors; one- and two-stage models alike) becomes ``neck_channels``;
  ``stacked_convs`` becomes ``head_convs``; the number of classes is the
  suite's;
- the cost of testing: the final-detection test settings (those with a
  ``score_thr``) keep at most ``TEST_NMS_PRE`` candidates per level and
  ``TEST_MAX_PER_IMG`` detections per patch (patches hold far fewer objects);
- data, image size, batch, optimizer, schedule, iterations and seed
  (:class:`Budget`), identical for every row.

What the method is (head, assigner, anchors or points, losses, levels, test
settings) stays the config's. Each run (suite, row, seed) trains in its own
work folder (an interrupted run resumes from its last checkpoint), is
evaluated on the suite's held-out images with the DOTA-server evaluator
(patches merged to full images; mAP50 VOC07, mAP50:95, AP by AI-TOD size
range), and is appended to a JSON file as soon as it is done (atomically);
finished runs are skipped. :func:`write_table` and :func:`write_chart` turn
the records into ``docs/leaderboard.md`` and ``docs/leaderboard.png``.
"""
import contextlib
import copy
import fcntl
import glob
import hashlib
import io
import json
import math
import os
import os.path as osp
import platform
import subprocess
import time
import traceback
from dataclasses import asdict, dataclass, replace
from typing import IO, Callable, Dict, Iterator, List, Optional, Sequence

import numpy as np
import torch

from ..core.fileio import atomic_write_text

SUITES = ('synthetic', 'harbour')
# The metrics of the table and chart (keys of DOTAPolyDataset.evaluate).
TABLE_METRICS = (('mAP', 'mAP50'), ('mAP_50_95', 'mAP50:95'),
                 ('AP_vt', 'AP vt'), ('AP_t', 'AP t'), ('AP_s', 'AP s'),
                 ('AP_m', 'AP m'))
TINY_METRIC = 'AP_t'
TEST_NMS_PRE = 1000
TEST_MAX_PER_IMG = 300


@dataclass(frozen=True)
class Budget:
    """The training budget every row gets.

    Attributes:
        name: ``'cpu'`` or ``'gpu'`` (or a test's own).
        iters: training iterations.
        batch: images per iteration.
        patch_size, gap: the suites' patches (square, no resizing).
        backbone_width: base channels of the ResNet-18.
        neck_channels: FPN and head width.
        head_convs: ``stacked_convs`` of the heads that have it.
        lr, weight_decay: AdamW.
        warmup_iters: linear warm-up, then cosine decay to 5 % of ``lr``.
        checkpoint_interval: iterations between checkpoints (resume points).
        train_scenes, val_scenes, scene_size: the synthetic suite's scenes.
        workers: data-loading processes.
    """
    name: str
    iters: int
    batch: int
    patch_size: int
    gap: int
    backbone_width: int
    neck_channels: int
    head_convs: int
    lr: float
    weight_decay: float
    warmup_iters: int
    checkpoint_interval: int
    train_scenes: int
    val_scenes: int
    scene_size: int
    workers: int


BUDGETS = {
    'cpu': Budget(name='cpu', iters=300, batch=8, patch_size=256, gap=64,
                  backbone_width=32, neck_channels=64, head_convs=2,
                  lr=0.002, weight_decay=0.05, warmup_iters=50,
                  checkpoint_interval=50, train_scenes=24, val_scenes=6,
                  scene_size=1024, workers=1),
    'gpu': Budget(name='gpu', iters=3000, batch=8, patch_size=512, gap=128,
                  backbone_width=64, neck_channels=128, head_convs=4,
                  lr=0.001, weight_decay=0.05, warmup_iters=300,
                  checkpoint_interval=500, train_scenes=96, val_scenes=12,
                  scene_size=1024, workers=4),
}


@dataclass(frozen=True)
class SuiteData:
    """A prepared suite: patch folders for training and evaluation and the
    label folder of the full held-out images (evaluation merges patches)."""
    name: str
    classes: tuple
    dataset_type: str
    train_dir: str
    val_dir: str
    val_full_labels: str


def prepare_suite(name: str, data_root: str, budget: Budget,
                  harbour_image: Optional[str] = None,
                  harbour_labels: Optional[str] = None,
                  progress: bool = True) -> SuiteData:
    """Write (or find) a suite's data under ``data_root/<name>_<patch>``.

    ``synthetic``: the generator's scenes (train / validation as the demo);
    ``harbour``: :func:`rotated_tod.datasets.harbour.prepare_harbour_dataset`
    on ``harbour_image`` / ``harbour_labels``.
    """
    from ..datasets import (
        HARBOUR_CLASSES,
        SYNTHETIC_CLASSES,
        prepare_harbour_dataset,
        prepare_synthetic_dataset,
    )
    root = osp.join(data_root, suite_folder(name, budget))
    if name == 'synthetic':
        prepare_synthetic_dataset(
            root, budget.train_scenes, budget.val_scenes,
            image_size=budget.scene_size, patch_size=budget.patch_size,
            gap=budget.gap, progress=progress)
        classes, dataset_type = SYNTHETIC_CLASSES, 'SyntheticTinyDataset'
    elif name == 'harbour':
        if harbour_image is None or harbour_labels is None:
            raise ValueError('the harbour suite needs its image and labels')
        prepare_harbour_dataset(harbour_image, harbour_labels, root,
                                patch_size=budget.patch_size, gap=budget.gap,
                                progress=progress)
        classes, dataset_type = HARBOUR_CLASSES, 'DOTAPolyDataset'
    else:
        raise ValueError(f'unknown suite {name!r}; known: {SUITES}')
    return SuiteData(name, tuple(classes), dataset_type,
                     osp.join(root, 'split', 'train'),
                     osp.join(root, 'split', 'val'),
                     osp.join(root, 'val', 'labelTxt'))


def _walk_dicts(node, visit: Callable[[dict], None]) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk_dicts(value, visit)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _walk_dicts(value, visit)


def suite_folder(name: str, budget: Budget) -> str:
    """The folder name of a suite's data under ``budget``: every setting
    that changes the data is in it, so that budgets which differ only in,
    say, the number of validation scenes never share (and so never score
    on) each other's data."""
    folder = f'{name}_{budget.patch_size}_gap{budget.gap}'
    if name == 'synthetic':
        folder += (f'_{budget.scene_size}px_{budget.train_scenes}'
                   f'+{budget.val_scenes}scenes')
    return folder


def impose_budget(model: dict, budget: Budget, num_classes: int) -> dict:
    """The row's model with the common backbone, widths and class count
    (rules: module docstring). The input is not changed."""
    model = copy.deepcopy(dict(model))
    old_backbone = model.get('backbone', {})
    out_indices = tuple(old_backbone.get('out_indices', (0, 1, 2, 3)))
    width = budget.backbone_width
    model['backbone'] = dict(
        type='ResNet', depth=18, num_stages=4, out_indices=out_indices,
        base_channels=width, frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
        style='pytorch', init_cfg=None)
    neck = dict(model['neck'])
    fpn_width = neck.get('out_channels')
    # ResNet-18's basic blocks: stage i has width * 2**i channels.
    neck['in_channels'] = [width * 2**i for i in out_indices]
    neck['out_channels'] = budget.neck_channels
    model['neck'] = neck
    channels = budget.neck_channels

    def visit(node: dict) -> None:
        for key in ('in_channels', 'feat_channels', 'out_channels'):
            if node.get(key) == fpn_width and isinstance(node[key], int):
                node[key] = channels
        if isinstance(node.get('stacked_convs'), int):
            node['stacked_convs'] = budget.head_convs
        if isinstance(node.get('num_classes'), int):
            node['num_classes'] = num_classes
        norm = node.get('norm_cfg')
        if isinstance(norm, dict) and norm.get('type') == 'GN':
            norm['num_groups'] = math.gcd(int(norm['num_groups']), channels)
        if 'score_thr' in node:
            for key, cap in (('nms_pre', TEST_NMS_PRE),
                             ('max_per_img', TEST_MAX_PER_IMG)):
                if isinstance(node.get(key), int):
                    node[key] = min(node[key], cap)

    for key, value in model.items():
        if key not in ('backbone', 'neck'):
            _walk_dicts(value, visit)
    return model


def _pipelines(patch_size: int, angle_version: str) -> tuple:
    norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                to_rgb=True)
    scale = (patch_size, patch_size)
    train = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='RResize', img_scale=scale),
        dict(type='RRandomFlip', flip_ratio=[0.25, 0.25, 0.25],
             direction=['horizontal', 'vertical', 'diagonal'],
             version=angle_version),
        dict(type='Normalize', **norm),
        dict(type='Pad', size_divisor=32),
        dict(type='DefaultFormatBundle'),
        dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels']),
    ]
    test = [
        dict(type='LoadImageFromFile'),
        dict(type='MultiScaleFlipAug', img_scale=scale, flip=False,
             transforms=[
                 dict(type='RResize'),
                 dict(type='Normalize', **norm),
                 dict(type='Pad', size_divisor=32),
                 dict(type='DefaultFormatBundle'),
                 dict(type='Collect', keys=['img']),
             ]),
    ]
    return train, test


def build_run_config(row_config: str, suite: SuiteData, budget: Budget):
    """The mmcv ``Config`` of one run: the row's model under ``budget`` on
    ``suite`` (everything but the model comes from here)."""
    from mmcv import Config
    method = Config.fromfile(row_config)
    angle_version = method.get('angle_version', 'le90')
    train_pipeline, test_pipeline = _pipelines(budget.patch_size,
                                               angle_version)
    common = dict(type=suite.dataset_type, classes=suite.classes,
                  version=angle_version)
    val = dict(common, ann_file=osp.join(suite.val_dir, 'annfiles') + '/',
               img_prefix=osp.join(suite.val_dir, 'images') + '/',
               full_ann_dir=suite.val_full_labels + '/',
               filter_empty_gt=False, pipeline=test_pipeline)
    cfg = dict(
        model=impose_budget(method.model, budget, len(suite.classes)),
        angle_version=angle_version,
        data=dict(
            samples_per_gpu=budget.batch,
            workers_per_gpu=budget.workers,
            train=dict(common,
                       ann_file=osp.join(suite.train_dir, 'annfiles') + '/',
                       img_prefix=osp.join(suite.train_dir, 'images') + '/',
                       pipeline=train_pipeline),
            val=val, test=copy.deepcopy(val)),
        optimizer=dict(type='AdamW', lr=budget.lr,
                       weight_decay=budget.weight_decay),
        optimizer_config=dict(grad_clip=dict(max_norm=10, norm_type=2)),
        lr_config=dict(policy='CosineAnnealing', warmup='linear',
                       warmup_iters=budget.warmup_iters, warmup_ratio=0.1,
                       min_lr_ratio=0.05, by_epoch=False),
        runner=dict(type='IterBasedRunner', max_iters=budget.iters),
        checkpoint_config=dict(interval=budget.checkpoint_interval,
                               by_epoch=False, max_keep_ckpts=1),
        log_config=dict(interval=max(1, min(20, budget.iters // 10)),
                        hooks=[dict(type='TextLoggerHook')]),
        evaluation=dict(interval=budget.iters, metric='mAP', by_epoch=False),
        custom_imports=dict(imports=['rotated_tod'],
                            allow_failed_imports=False),
        dist_params=dict(backend='gloo'),
        log_level='INFO',
        load_from=None,
        resume_from=None,
        workflow=[('train', 1)],
        opencv_num_threads=0,
        mp_start_method='fork')
    return Config(cfg)


def _final_checkpoint(work_dir: str, iters: int) -> Optional[str]:
    path = osp.join(work_dir, f'iter_{iters}.pth')
    return path if osp.exists(path) else None


def train_seconds_per_iter(work_dir: str) -> Optional[float]:
    """Median ``time`` (seconds per iteration, data loading included) of the
    training records in the ``*.log.json`` files of ``work_dir``; the first
    record of each file (warm-up) is left out when there are others."""
    times = []
    for path in sorted(glob.glob(osp.join(work_dir, '*.log.json'))):
        with open(path, encoding='utf-8') as f:
            records = [json.loads(line) for line in f if line.strip()]
        values = [r['time'] for r in records
                  if r.get('mode') == 'train' and 'time' in r]
        times.extend(values[1:] if len(values) > 1 else values)
    return float(np.median(times)) if times else None


def train_and_evaluate(cfg, work_dir: str, seed: int) -> dict:
    """Train (resuming in ``work_dir``) unless the final checkpoint exists,
    then evaluate on the test set. Returns the metrics and timings."""
    import logging

    from mmdet.apis import single_gpu_test
    from mmdet.datasets import build_dataloader
    from mmrotate.datasets import build_dataset

    from ..core.evaluation import COCO_IOU_THRS
    from .inference import init_detector
    from .train import default_device, train_from_config, wrap_model

    iters = cfg.runner.max_iters
    started = time.time()
    if _final_checkpoint(work_dir, iters) is None:
        train_from_config(copy.deepcopy(cfg), work_dir=work_dir,
                          auto_resume=True, seed=seed, validate=False)
    trained = time.time()
    logging.getLogger('mmcv').setLevel(logging.WARNING)
    model = init_detector(cfg, _final_checkpoint(work_dir, iters))
    dataset = build_dataset(cfg.data.test, dict(test_mode=True))
    loader = build_dataloader(dataset, samples_per_gpu=1,
                              workers_per_gpu=cfg.data.workers_per_gpu,
                              dist=False, shuffle=False)
    results = single_gpu_test(wrap_model(model, default_device(), False),
                              loader)
    metrics = dataset.evaluate(results, iou_thr=COCO_IOU_THRS,
                               size_ranges=True)
    return dict(metrics={k: _finite_or_none(v) for k, v in metrics.items()},
                train_s_per_iter=train_seconds_per_iter(work_dir),
                train_wall_s=round(trained - started, 1),
                eval_wall_s=round(time.time() - trained, 1))


def _finite_or_none(value) -> Optional[float]:
    value = float(value)
    return value if math.isfinite(value) else None


def code_version(repo_dir: str) -> dict:
    """The package version and, when ``repo_dir`` is a git checkout, its
    commit and whether the tree had changes."""
    from ..version import __version__
    out = dict(version=__version__, commit=None, dirty=None)
    try:
        out['commit'] = subprocess.run(
            ['git', 'rev-parse', 'HEAD'], cwd=repo_dir, capture_output=True,
            text=True, check=True).stdout.strip()
        out['dirty'] = bool(subprocess.run(
            ['git', 'status', '--porcelain', '--untracked-files=no'],
            cwd=repo_dir, capture_output=True, text=True,
            check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        pass
    return out


def budget_id(budget: Budget) -> str:
    """A folder name for the runs of ``budget``: its name, iterations and a
    hash of all its settings (runs of other settings never resume from its
    checkpoints)."""
    settings = json.dumps(asdict(budget), sort_keys=True).encode()
    return (f'{budget.name}_{budget.iters}it_'
            f'{hashlib.sha1(settings).hexdigest()[:8]}')


def run_key(suite: str, name: str, seed: int, budget: Budget) -> str:
    """The identity of a run: a finished run with the same key is skipped."""
    settings = json.dumps(asdict(budget), sort_keys=True)
    return f'{suite}|{name}|{seed}|{settings}'


def load_records(path: str) -> List[dict]:
    if not osp.exists(path):
        return []
    with open(path, encoding='utf-8') as f:
        return json.load(f)['records']


def save_records(path: str, records: List[dict]) -> None:
    """Write the records atomically (a reader never sees half a file)."""
    atomic_write_text(path, json.dumps(dict(records=records), indent=1) + '\n')


def add_record(path: str, record: dict) -> List[dict]:
    """Add (or replace, by key) one record of the JSON at ``path`` under an
    exclusive lock, so that leaderboard processes running other rows at the
    same time keep each other's records; returns all records."""
    with locked(path + '.lock'):
        records = [r for r in load_records(path)
                   if r['key'] != record['key']] + [record]
        save_records(path, records)
    return records


@contextlib.contextmanager
def locked(path: str) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (made if missing)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'a') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def claim_run(work_dir: str) -> Optional[IO]:
    """An open file holding an exclusive lock on ``work_dir``'s run, or None
    when another process holds it: leaderboard processes started on the same
    plan then share its runs instead of training one twice. The lock ends
    with the file (closed, or the process gone)."""
    os.makedirs(osp.dirname(work_dir), exist_ok=True)
    handle = open(work_dir + '.lock', 'a')  # noqa: SIM115 (kept open)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _slug(name: str) -> str:
    slug = ''.join(c if c.isalnum() else '_' for c in name.lower())
    return '_'.join(part for part in slug.split('_') if part)


def plan_runs(rows: Sequence[dict], suites: Sequence[str],
              seeds: Optional[int] = None,
              only: Optional[Sequence[str]] = None) -> List[tuple]:
    """``(suite, row, seed)`` in run order: suite by suite, seed 0 of every
    row before seed 1 (a partial leaderboard then covers every row).

    Args:
        seeds: the number of seeds of every row (default: the row's).
        only: row names to run (default all); an unknown name is an error.
    """
    names = [r['name'] for r in rows]
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ValueError(f'unknown row(s) {unknown}; rows: {names}')
        rows = [r for r in rows if r['name'] in only]
    for suite in suites:
        if suite not in SUITES:
            raise ValueError(f'unknown suite {suite!r}; known: {SUITES}')
    most = max((seeds or r['seeds'] for r in rows), default=0)
    return [(suite, row, seed) for suite in suites for seed in range(most)
            for row in rows if seed < (seeds or row['seeds'])]


def run_leaderboard(rows: Sequence[dict],
                    budget: Budget,
                    results_path: str,
                    data_root: str,
                    work_root: str,
                    repo_dir: str,
                    suites: Sequence[str] = SUITES,
                    seeds: Optional[int] = None,
                    only: Optional[Sequence[str]] = None,
                    harbour_image: Optional[str] = None,
                    harbour_labels: Optional[str] = None,
                    on_record: Optional[Callable[[List[dict]], None]] = None,
                    say: Callable[[str], None] = print) -> tuple:
    """Train and evaluate the planned runs (:func:`plan_runs`), skipping
    those already in ``results_path``; each new record is saved at once and
    ``on_record`` (e.g. rewriting the table) is called with all records.
    A run that raises is reported with its traceback and left unrecorded
    (the next call retries it); the others go on.

    Returns:
        every record of ``results_path`` (old and new), and the
        ``(suite, name, seed)`` of the runs that failed.
    """
    plan = plan_runs(rows, suites, seeds, only)
    records = load_records(results_path)
    done = {r['key'] for r in records}
    todo = [p for p in plan
            if run_key(p[0], p[1]['name'], p[2], budget) not in done]
    say(f'{len(plan)} runs planned, {len(plan) - len(todo)} already done, '
        f'{len(todo)} to run (budget {budget.name}: {budget.iters} '
        f'iterations of {budget.batch} x {budget.patch_size} px)')
    prepared: Dict[str, SuiteData] = {}
    started = time.time()
    failed = []
    for k, (suite, row, seed) in enumerate(todo, start=1):
        if suite not in prepared:
            # one process writes a suite's data, the others then find it
            with locked(osp.join(data_root, f'{suite}.lock')):
                prepared[suite] = prepare_suite(
                    suite, data_root, budget, harbour_image, harbour_labels)
        eta = ''
        if k > 1:
            left = (time.time() - started) / (k - 1) * (len(todo) - k + 1)
            eta = f', about {left / 60:.0f} min left'
        say(f'[{k}/{len(todo)}] {suite} / {row["name"]} / seed {seed}{eta}')
        work_dir = osp.join(work_root, budget_id(budget), suite,
                            _slug(row['name']), f'seed{seed}')
        claim = claim_run(work_dir)
        if claim is None or run_key(suite, row['name'], seed, budget) in {
                r['key'] for r in load_records(results_path)}:
            say(f'[{k}/{len(todo)}] skipped: finished or running in '
                'another process')
            if claim is not None:
                claim.close()
            continue
        try:
            cfg = build_run_config(osp.join(repo_dir, row['config']),
                                   prepared[suite], budget)
            outcome = train_and_evaluate(cfg, work_dir, seed)
        except Exception as err:  # one broken row must not stop the board
            say(f'[{k}/{len(todo)}] FAILED: {type(err).__name__}: {err}\n'
                + traceback.format_exc())
            failed.append((suite, row['name'], seed))
            continue
        finally:
            claim.close()
        record = dict(
            key=run_key(suite, row['name'], seed, budget), suite=suite,
            name=row['name'], config=row['config'],
            baseline=row.get('baseline'), group=row.get('group'), seed=seed,
            settings=asdict(budget), **outcome,
            code=code_version(repo_dir), host=dict(
                machine=platform.machine(), processor=platform.processor(),
                cpus=os.cpu_count(), torch_threads=torch.get_num_threads(),
                load_average=list(os.getloadavg())),
            finished=time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
        records = add_record(results_path, record)
        say(f'[{k}/{len(todo)}] done: mAP50 {record["metrics"]["mAP"]:.3f}, '
            f'{record["train_s_per_iter"] or math.nan:.2f} s/iter, '
            f'train {record["train_wall_s"]:.0f} s, '
            f'eval {record["eval_wall_s"]:.0f} s')
        if on_record is not None:
            on_record(records)
    return records, failed


def _current(records: Sequence[dict], budget: Budget) -> List[dict]:
    settings = asdict(budget)
    return [r for r in records if r['settings'] == settings]


def summarize_records(records: Sequence[dict], rows: Sequence[dict],
                      budget: Budget) -> Dict[str, List[dict]]:
    """Per suite, per row in table order: the mean and spread (max - min)
    over seeds of each metric and of s/iter, for the records of ``budget``.
    Rows without a record are left out."""
    out: Dict[str, List[dict]] = {}
    current = _current(records, budget)
    for suite in SUITES:
        lines = []
        for row in rows:
            runs = [r for r in current
                    if r['suite'] == suite and r['name'] == row['name']]
            if not runs:
                continue
            line = dict(name=row['name'], baseline=row.get('baseline'),
                        seeds=sorted(r['seed'] for r in runs))
            for key, _ in TABLE_METRICS:
                values = [r['metrics'].get(key) for r in runs]
                values = [v for v in values if v is not None]
                line[key] = (float(np.mean(values)) if values else None,
                             float(np.ptp(values)) if values else None)
            speeds = [r['train_s_per_iter'] for r in runs
                      if r.get('train_s_per_iter')]
            line['s_per_iter'] = float(np.mean(speeds)) if speeds else None
            lines.append(line)
        if lines:
            out[suite] = lines
    return out


def _points(value: Optional[float]) -> str:
    return '-' if value is None else f'{100 * value:.1f}'


def write_table(records: Sequence[dict], rows: Sequence[dict],
                budget: Budget, path: str, command: str) -> None:
    """``docs/leaderboard.md``: per suite, mean (spread over seeds) of each
    metric in points, the difference of mAP50 and tiny AP to the row's
    baseline, and the training time per iteration relative to it."""
    summary = summarize_records(records, rows, budget)
    out = ['# Method leaderboard', '',
           f'Regenerate with `{command}`. Every row: ResNet-18 at '
           f'{budget.backbone_width} base channels from scratch, FPN/head '
           f'width {budget.neck_channels}, {budget.head_convs} head convs, '
           f'{budget.iters} iterations of {budget.batch} patches of '
           f'{budget.patch_size} px, AdamW lr {budget.lr:g}, '
           f'{budget.val_scenes} synthetic validation scenes, budget '
           f'`{budget.name}`. Numbers are AP in points (x100): the mean '
           'over seeds and, in parentheses, the spread (max - min) when '
           'there are several. mAP50: VOC07 11-point, DOTA server rules, '
           'full images; mAP50:95: its mean over IoU 0.50:0.05:0.95; '
           'AP vt/t/s/m: AP50 of AI-TOD size ranges (very tiny 2-8, tiny '
           '8-16, small 16-32, medium 32-64 px on sqrt(polygon area)). '
           'Delta: difference to the row\'s baseline; time: train s/iter '
           'relative to the baseline, indicative only: runs share the '
           'machine with other jobs (each record keeps its load average); '
           '`bench/train_step.py` measures the ratios in one process.', '']
    for suite, lines in summary.items():
        by_name = {line['name']: line for line in lines}
        out += [f'## {suite}', '',
                '| method | seeds | ' + ' | '.join(
                    label for _, label in TABLE_METRICS) +
                ' | delta mAP50 | delta AP t | s/iter | time |',
                '|---|---|' + '---|' * (len(TABLE_METRICS) + 4)]
        for line in lines:
            cells = []
            for key, _ in TABLE_METRICS:
                mean, spread = line[key]
                cell = _points(mean)
                if len(line['seeds']) > 1 and spread is not None:
                    cell += f' ({_points(spread)})'
                cells.append(cell)
            base = by_name.get(line['baseline'])
            deltas, ratio = ['', ''], ''
            if base is not None:
                for i, key in enumerate(('mAP', TINY_METRIC)):
                    if line[key][0] is not None and base[key][0] is not None:
                        deltas[i] = (f'{100 * (line[key][0] - base[key][0]):+.1f}')
                if line['s_per_iter'] and base['s_per_iter']:
                    ratio = f'{line["s_per_iter"] / base["s_per_iter"]:.2f}x'
            name = line['name'] + (' (baseline)' if not line['baseline']
                                   else '')
            speed = ('-' if line['s_per_iter'] is None
                     else f'{line["s_per_iter"]:.2f}')
            out.append(f'| {name} | {len(line["seeds"])} | ' +
                       ' | '.join(cells) +
                       f' | {deltas[0]} | {deltas[1]} | {speed} | {ratio} |')
        out.append('')
    if not summary:
        out.append('No finished runs yet.')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    atomic_write_text(path, '\n'.join(out) + '\n')


def write_chart(records: Sequence[dict], rows: Sequence[dict],
                budget: Budget, path: str) -> None:
    """``docs/leaderboard.png``: per suite, grouped bars of mAP50 and tiny
    AP per method (error bars: the spread over seeds), baselines hatched and
    a dashed line at each baseline's mAP50 across its methods."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from ..core.fileio import atomic_write_bytes
    summary = summarize_records(records, rows, budget)
    suites = list(summary) or ['(no runs yet)']
    most = max((len(lines) for lines in summary.values()), default=1)
    fig, axes = plt.subplots(len(suites), 1, squeeze=False,
                             figsize=(max(7, 0.9 * most + 2),
                                      3.2 * len(suites)))
    for ax, suite in zip(axes[:, 0], suites):
        lines = summary.get(suite, [])
        x = np.arange(len(lines))
        for offset, (key, label, color) in zip(
                (-0.2, 0.2), (('mAP', 'mAP50', '#3b75af'),
                              (TINY_METRIC, 'AP tiny (8-16 px)', '#ef8636'))):
            means = [100 * (line[key][0] or 0) for line in lines]
            spreads = [100 * (line[key][1] or 0) / 2 for line in lines]
            bars = ax.bar(x + offset, means, 0.4, yerr=spreads, capsize=2,
                          label=label, color=color)
            for bar, line in zip(bars, lines):
                if not line['baseline']:
                    bar.set_hatch('//')
                    bar.set_edgecolor('black')
        index = {line['name']: i for i, line in enumerate(lines)}
        for line in lines:
            if not line['baseline'] and line['mAP'][0] is not None:
                members = [index[m['name']] for m in lines
                           if m['name'] == line['name']
                           or m['baseline'] == line['name']]
                ax.hlines(100 * line['mAP'][0], min(members) - 0.4,
                          max(members) + 0.4, colors='#3b75af',
                          linestyles='dashed', linewidth=1)
        ax.set_xticks(x)
        ax.set_xticklabels([line['name'] + ('\n(baseline)' if not
                                            line['baseline'] else '')
                            for line in lines], fontsize=8)
        ax.set_ylabel('AP (points)')
        ax.set_title(f'{suite} suite', fontsize=10)
        ax.grid(axis='y', alpha=0.3)
        if lines:
            ax.legend(fontsize=8, loc='upper right')
    fig.suptitle(f'rotated_tod method leaderboard, budget {budget.name} '
                 f'({budget.iters} iterations)\nhatched: baseline; dashed: '
                 'the baseline\'s mAP50 across its methods', fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=110)
    plt.close(fig)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())


def report_suffix(budget: Budget) -> str:
    """The suffix of the table and chart file names of ``budget``'s runs:
    ``''`` for the default ``cpu`` budget (``docs/leaderboard.md``), else
    ``'_<name>'`` and, when the iterations or validation scenes are not
    the named budget's, ``'_<iters>it'`` and ``'_<scenes>val'``
    (``docs/leaderboard_cpu_4500it_48val.md``), so that a run at another
    budget never overwrites the main table."""
    if budget == BUDGETS['cpu']:
        return ''
    named = BUDGETS.get(budget.name)
    if named is not None and with_val_scenes(
            with_iters(named, budget.iters), budget.val_scenes) == budget:
        return (f'_{budget.name}'
                + ('' if budget.iters == named.iters
                   else f'_{budget.iters}it')
                + ('' if budget.val_scenes == named.val_scenes
                   else f'_{budget.val_scenes}val'))
    return f'_{budget_id(budget)}'


def with_iters(budget: Budget, iters: Optional[int]) -> Budget:
    """``budget`` with another number of iterations (warm-up and checkpoint
    interval shrink with it)."""
    if iters is None:
        return budget
    return replace(budget, iters=iters,
                   warmup_iters=min(budget.warmup_iters, max(1, iters // 6)),
                   checkpoint_interval=min(budget.checkpoint_interval,
                                           max(1, iters // 6)))


def with_val_scenes(budget: Budget, scenes: Optional[int]) -> Budget:
    """``budget`` scored on another number of synthetic validation scenes
    (the first ones are the same scenes: they come from one seeded
    stream)."""
    return budget if scenes is None else replace(budget, val_scenes=scenes)

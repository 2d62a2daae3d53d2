"""The steps of the demo (``make demo``, ``tools/demo.py``): data -> train on
CPU -> server-style mAP -> submission -> a picture -> the real harbour.

1. :func:`prepare_demo_data`: the synthetic scenes and the harbour suite
   (:mod:`rotated_tod.datasets.harbour`: a real DOTA marina, left 60 % for
   training, right 40 % held out);
2. :func:`demo_config` and :func:`train_demo_detector`: the detector trains
   on the synthetic training scenes plus the harbour training region;
3. :func:`evaluate_synthetic`: DOTA-server mAP on the synthetic validation
   scenes (patches merged);
4. :func:`write_submission`: DOTA Task1/Task2 files and their zips;
5. :func:`draw_validation_scene`: true positives, misses and false alarms on
   a validation scene;
6. :func:`evaluate_harbour`: the ship AP on the held-out harbour region and
   its picture.

:func:`run_demo` runs them in order. Every step keeps its outputs (an
interrupted demo continues where it stopped). Where the files live is the
caller's business (``tools/demo.py``).
"""
import glob
import logging
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import mmcv
import numpy as np
from mmcv import Config

# The harbour training region has 6 patches of 512 px against ~200
# synthetic ones: repeated so that about a quarter of the batches see it.
HARBOUR_REPEAT = 12
# The classes the harbour's labels cover (its image shows unlabelled cars).
HARBOUR_LABELLED_CLASSES = ('ship', )


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo reads and writes.

    Attributes:
        out_dir: outputs (work folder, metrics, submission, pictures).
        data_root: the synthetic dataset (generated when missing).
        harbour_root: the harbour suite's regions and patches (written).
        harbour_image, harbour_labels: the harbour image and its DOTA label
            file.
    """
    out_dir: str
    data_root: str
    harbour_root: str
    harbour_image: str
    harbour_labels: str


def say(msg: str) -> None:
    print(f'\n[demo] {msg}', flush=True)


def prepare_demo_data(paths: DemoPaths, num_train: int, num_val: int,
                      patch_size: int) -> None:
    """Step 1: synthetic scenes and the harbour regions, split into patches
    of ``patch_size`` (gap a quarter of it)."""
    from ..datasets import prepare_harbour_dataset, prepare_synthetic_dataset
    prepare_synthetic_dataset(paths.data_root, num_train, num_val,
                              patch_size=patch_size, gap=patch_size // 4)
    prepare_harbour_dataset(paths.harbour_image, paths.harbour_labels,
                            paths.harbour_root, patch_size=patch_size,
                            gap=patch_size // 4)


def _patch_folders(root: str, part: str) -> Dict[str, str]:
    return dict(ann_file=osp.join(root, 'split', part, 'annfiles') + '/',
                img_prefix=osp.join(root, 'split', part, 'images') + '/')


def harbour_dataset_config(cfg: Config, harbour_root: str, part: str) -> dict:
    """A dataset config of a harbour region (``'train'`` or ``'val'``) with
    the classes of ``cfg``'s test set, so its ships are the detector's
    ``ship``."""
    from mmrotate.datasets.builder import ROTATED_DATASETS
    test = cfg.data.test
    classes = test.get('classes') or ROTATED_DATASETS.get(test.type).CLASSES
    dataset = dict(type='DOTAPolyDataset', classes=tuple(classes),
                   version=test.get('version', 'le90'),
                   **_patch_folders(harbour_root, part))
    if part == 'train':
        # the harbour labels ships only: its parked cars must not teach the
        # detector that vehicles are background
        from ..datasets import with_labelled_classes
        dataset['pipeline'] = with_labelled_classes(
            cfg.data.train.pipeline, [classes.index(c)
                                      for c in HARBOUR_LABELLED_CLASSES])
    else:
        dataset.update(
            pipeline=test.pipeline, filter_empty_gt=False,
            full_ann_dir=osp.join(harbour_root, 'val', 'labelTxt') + '/')
    return dataset


def demo_config(config: str, paths: DemoPaths,
                max_iters: Optional[int] = None) -> Config:
    """Step 2a: the detector config on the demo's data: training on the
    synthetic training patches plus the harbour training region (repeated
    :data:`HARBOUR_REPEAT` times), testing on the synthetic validation
    scenes."""
    cfg = Config.fromfile(config)
    data_root = paths.data_root
    options = {f'data.train.{k}': v
               for k, v in _patch_folders(data_root, 'train').items()}
    for part in ('val', 'test'):
        options.update({f'data.{part}.{k}': v
                        for k, v in _patch_folders(data_root, 'val').items()})
        options[f'data.{part}.full_ann_dir'] = osp.join(
            data_root, 'val', 'labelTxt') + '/'
    if max_iters is not None:
        options['runner.max_iters'] = max_iters
        options['evaluation.interval'] = max_iters
    cfg.merge_from_dict(options)
    harbour = harbour_dataset_config(cfg, paths.harbour_root, 'train')
    cfg.data.train = [cfg.data.train,
                      dict(type='RepeatDataset', times=HARBOUR_REPEAT,
                           dataset=harbour)]
    return cfg


def final_checkpoint(work_dir: str, max_iters: int) -> Optional[str]:
    final = osp.join(work_dir, f'iter_{max_iters}.pth')
    return final if osp.exists(final) else None


def train_demo_detector(cfg: Config, work_dir: str) -> str:
    """Step 2b: train (resuming from ``work_dir``) unless the final
    checkpoint exists; returns it."""
    from .train import train_from_config
    iters = cfg.runner.max_iters
    checkpoint = final_checkpoint(work_dir, iters)
    if checkpoint is None:
        train_from_config(cfg, work_dir=work_dir, auto_resume=True,
                          validate=False)
        checkpoint = final_checkpoint(work_dir, iters)
    return checkpoint


def plot_curves(work_dir: str, out_dir: str) -> Optional[str]:
    """The loss curves of the last training log, or None without one."""
    from .log_analysis import plot_training_curves
    logs = sorted(glob.glob(osp.join(work_dir, '*.log.json')))
    if not logs:
        return None
    curves = osp.join(out_dir, 'training_curves.png')
    plot_training_curves(logs[-1:], curves,
                         keys=['loss', 'loss_cls', 'loss_bbox'])
    return curves


def detect_dataset(model, dataset_cfg: dict) -> Tuple[object, list]:
    """The dataset of ``dataset_cfg`` (test mode) and the model's results on
    its patches."""
    from mmdet.apis import single_gpu_test
    from mmdet.datasets import build_dataloader
    from mmrotate.datasets import build_dataset

    from .train import default_device, wrap_model
    dataset = build_dataset(dataset_cfg, dict(test_mode=True))
    loader = build_dataloader(dataset, samples_per_gpu=1, workers_per_gpu=1,
                              dist=False, shuffle=False)
    return dataset, single_gpu_test(
        wrap_model(model, default_device(), False), loader)


def evaluate_synthetic(model, cfg: Config, out_dir: str) -> tuple:
    """Step 3: ``(dataset, results, metrics)`` on the synthetic validation
    scenes; the metrics are also written to ``val_metrics.json``."""
    dataset, results = detect_dataset(model, cfg.data.test)
    metrics = dataset.evaluate(results)
    mmcv.dump(metrics, osp.join(out_dir, 'val_metrics.json'))
    return dataset, results, metrics


def write_submission(dataset, results: list, out_dir: str) -> Dict[str, str]:
    """Step 4: DOTA Task1/Task2 files of the validation scenes and their
    zips, under ``out_dir/submission``."""
    files, _ = dataset.format_results(
        results, submission_dir=osp.join(out_dir, 'submission'))
    return files


def draw_errors(image_path: str, dets_per_class: list, label_path: str,
                classes: tuple, out_png: str, score_thr: float) -> Dict[str,
                                                                       int]:
    """Draw TP (green), misses (red), false alarms (blue) of one image
    into ``out_png``; returns their counts."""
    from ..core.fileio import atomic_write_image, parse_dota_labels, read_image
    from ..core.visualization import classify_detections, draw_detection_errors
    annotation = parse_dota_labels(label_path, classes)
    atomic_write_image(out_png, draw_detection_errors(
        read_image(image_path), dets_per_class, annotation,
        score_thr=score_thr))
    return classify_detections(dets_per_class, annotation,
                               score_thr=score_thr).counts()


def draw_validation_scene(dataset, results: list, data_root: str,
                          out_dir: str, score_thr: float) -> str:
    """Step 5: the first validation scene with its errors drawn."""
    merged = dataset.merge_results(results)
    scene = sorted(merged)[0]
    picture = osp.join(out_dir, f'val_{scene}_tp_fn_fp.png')
    draw_errors(osp.join(data_root, 'val', 'images', scene + '.png'),
                merged[scene],
                osp.join(data_root, 'val', 'labelTxt', scene + '.txt'),
                dataset.CLASSES, picture, score_thr)
    return picture


def evaluate_harbour(model, cfg: Config, harbour_root: str, out_dir: str,
                     score_thr: float) -> Dict[str, object]:
    """Step 6: the ship AP (VOC07, IoU > 0.5, patches merged) on the
    held-out harbour region, and the region with its errors drawn. Only the
    ship detections are drawn: the harbour labels nothing else."""
    dataset, results = detect_dataset(
        model, harbour_dataset_config(cfg, harbour_root, 'val'))
    ship = dataset.CLASSES.index('ship')
    merged = dataset.merge_results(results)
    region = sorted(merged)[0]
    ships_only = [dets if c == ship else np.zeros((0, dets.shape[-1]))
                  for c, dets in enumerate(merged[region])]
    metrics = dataset.evaluate(results)
    picture = osp.join(out_dir, f'harbour_{region}_tp_fn_fp.png')
    counts = draw_errors(
        osp.join(harbour_root, 'val', 'images', region + '.png'), ships_only,
        osp.join(harbour_root, 'val', 'labelTxt', region + '.txt'),
        dataset.CLASSES, picture, score_thr)
    mmcv.dump(metrics, osp.join(out_dir, 'harbour_metrics.json'))
    return dict(ap=metrics['AP_ship'], picture=picture, counts=counts,
                metrics=metrics)


def run_demo(paths: DemoPaths,
             config: str,
             num_train: int = 24,
             num_val: int = 4,
             max_iters: Optional[int] = None,
             patch_size: int = 512,
             score_thr: float = 0.3) -> Dict[str, object]:
    """Run the six steps; returns the output paths and the numbers."""
    from .inference import init_detector
    from .train import default_device
    started = time.time()
    os.makedirs(paths.out_dir, exist_ok=True)
    out: Dict[str, object] = {}

    say(f'1/6 synthetic dataset in {paths.data_root}, harbour suite in '
        f'{paths.harbour_root}')
    prepare_demo_data(paths, num_train, num_val, patch_size)

    cfg = demo_config(config, paths, max_iters)
    work_dir = osp.join(paths.out_dir, 'work_dir')
    say(f'2/6 training {osp.basename(config)} for {cfg.runner.max_iters} '
        f'iterations on {default_device()} (synthetic + harbour training '
        f'region; resumes from {work_dir} if stopped)')
    out['checkpoint'] = train_demo_detector(cfg, work_dir)
    curves = plot_curves(work_dir, paths.out_dir)
    if curves:
        out['training_curves'] = curves

    say('3/6 evaluating on the synthetic validation scenes (patches merged, '
        'DOTA-server rules)')
    logging.getLogger('mmcv').setLevel(logging.WARNING)
    model = init_detector(cfg, out['checkpoint'])
    dataset, results, metrics = evaluate_synthetic(model, cfg, paths.out_dir)
    out['mAP'] = metrics['mAP']
    out['metrics'] = osp.join(paths.out_dir, 'val_metrics.json')

    say('4/6 DOTA submission files for the validation scenes')
    files = write_submission(dataset, results, paths.out_dir)
    out['submission'] = osp.join(paths.out_dir, 'submission')
    out['submission_zip'] = [p for n, p in files.items() if n.endswith('.zip')]

    say('5/6 drawing true positives, misses and false alarms on a '
        'validation scene')
    out['val_picture'] = draw_validation_scene(
        dataset, results, paths.data_root, paths.out_dir, score_thr)

    say('6/6 the held-out harbour region (right 40 % of DOTA P0706, never '
        'trained on)')
    harbour = evaluate_harbour(model, cfg, paths.harbour_root, paths.out_dir,
                               score_thr)
    out['harbour_ap'] = harbour['ap']
    out['harbour_picture'] = harbour['picture']
    out['harbour_counts'] = harbour['counts']
    out['minutes'] = round((time.time() - started) / 60, 1)
    return out

"""The main job (``make demo``): synthetic data -> train on CPU -> server-style
mAP -> submission -> pictures -> the same model on real DOTA images.

Every step keeps its outputs and is skipped when they exist, so an
interrupted demo continues where it stopped.
"""
import glob
import logging
import os
import os.path as osp
import time
from typing import Dict, Optional

import mmcv
from mmcv import Config

DEMO_CONFIG = 'configs/baselines/rotated_retinanet_r18_fpn_synthetic_le90.py'


def _say(msg: str) -> None:
    print(f'\n[demo] {msg}', flush=True)


def _latest_checkpoint(work_dir: str, max_iters: int) -> Optional[str]:
    final = osp.join(work_dir, f'iter_{max_iters}.pth')
    return final if osp.exists(final) else None


def run_demo(out_dir: str = 'demo_out',
             data_root: str = 'data/synthetic',
             dota_samples: Optional[str] = None,
             config: str = DEMO_CONFIG,
             num_train: int = 24,
             num_val: int = 4,
             max_iters: Optional[int] = None,
             score_thr: float = 0.3) -> Dict[str, object]:
    """Run the whole demo; returns the output paths and the mAP."""
    from mmdet.apis import single_gpu_test
    from mmdet.datasets import build_dataloader
    from mmrotate.datasets import build_dataset

    from ..core.fileio import atomic_write_image, read_image
    from ..core.visualization import draw_detection_errors, draw_detections
    from ..datasets import parse_dota_labels, prepare_synthetic_dataset
    from .inference import inference_huge_image, init_detector
    from .log_analysis import plot_training_curves
    from .train import default_device, train_from_config, wrap_model

    started = time.time()
    outputs: Dict[str, object] = {}
    os.makedirs(out_dir, exist_ok=True)

    _say(f'1/6 synthetic dataset in {data_root}')
    prepare_synthetic_dataset(data_root, num_train, num_val)

    cfg = Config.fromfile(config)
    split_root = osp.join(data_root, 'split')
    data_options = {
        'data.train.ann_file': osp.join(split_root, 'train', 'annfiles/'),
        'data.train.img_prefix': osp.join(split_root, 'train', 'images/'),
    }
    for part in ('val', 'test'):
        data_options.update({
            f'data.{part}.ann_file': osp.join(split_root, 'val', 'annfiles/'),
            f'data.{part}.img_prefix': osp.join(split_root, 'val', 'images/'),
            f'data.{part}.full_ann_dir': osp.join(data_root, 'val',
                                                  'labelTxt/'),
        })
    if max_iters is not None:
        data_options['runner.max_iters'] = max_iters
        data_options['evaluation.interval'] = max_iters
    cfg.merge_from_dict(data_options)
    iters = cfg.runner.max_iters

    work_dir = osp.join(out_dir, 'work_dir')
    checkpoint = _latest_checkpoint(work_dir, iters)
    if checkpoint is None:
        _say(f'2/6 training {osp.basename(config)} for {iters} iterations '
             f'on {default_device()} (resumes from {work_dir} if stopped)')
        train_from_config(cfg, work_dir=work_dir, auto_resume=True,
                          validate=False)
        checkpoint = _latest_checkpoint(work_dir, iters)
    else:
        _say(f'2/6 trained model found: {checkpoint}')
    outputs['checkpoint'] = checkpoint
    logs = sorted(glob.glob(osp.join(work_dir, '*.log.json')))
    if logs:
        curves = osp.join(out_dir, 'training_curves.png')
        plot_training_curves(logs[-1:], curves, keys=['loss', 'loss_cls',
                                                      'loss_bbox'])
        outputs['training_curves'] = curves

    _say('3/6 evaluating on the synthetic validation scenes '
         '(patches merged, DOTA-server rules)')
    logging.getLogger('mmcv').setLevel(logging.WARNING)
    model = init_detector(cfg, checkpoint)
    dataset = build_dataset(cfg.data.test, dict(test_mode=True))
    loader = build_dataloader(dataset, samples_per_gpu=1, workers_per_gpu=1,
                              dist=False, shuffle=False)
    results = single_gpu_test(
        wrap_model(model, default_device(), False), loader)
    metrics = dataset.evaluate(results)
    mmcv.dump(metrics, osp.join(out_dir, 'val_metrics.json'))
    outputs['mAP'] = metrics['mAP']
    outputs['metrics'] = osp.join(out_dir, 'val_metrics.json')

    _say('4/6 DOTA submission files for the validation scenes')
    submission = osp.join(out_dir, 'submission')
    files, _ = dataset.format_results(results, submission_dir=submission)
    outputs['submission'] = submission
    outputs['submission_zip'] = [
        path for name, path in files.items() if name.endswith('.zip')
    ]

    _say('5/6 drawing detections on a validation scene')
    merged = dataset.merge_results(results)
    val_image = sorted(merged)[0]
    image = read_image(osp.join(data_root, 'val', 'images',
                                val_image + '.png'))
    annotation = parse_dota_labels(
        osp.join(data_root, 'val', 'labelTxt', val_image + '.txt'),
        dataset.CLASSES)
    picture = osp.join(out_dir, f'val_{val_image}_tp_fn_fp.png')
    atomic_write_image(
        picture,
        draw_detection_errors(image, merged[val_image], annotation,
                              score_thr=score_thr))
    outputs['val_picture'] = picture

    samples = dota_samples
    if samples is None and osp.isdir('../shared/data/dota_samples'):
        samples = '../shared/data/dota_samples'
    real_pictures = []
    if samples:
        images = sorted(glob.glob(osp.join(samples, 'images', '*.png')))
        _say(f'6/6 the trained model on {len(images)} real DOTA images from '
             f'{samples} (512 windows, gap 128, merged)')
        for path in images:
            dets = inference_huge_image(
                model, path, patch_size=512, gaps=(128, ), batch_size=4,
                progress=True)
            name = osp.splitext(osp.basename(path))[0]
            out_png = osp.join(out_dir, f'dota_{name}_detections.png')
            atomic_write_image(
                out_png,
                draw_detections(read_image(path), dets, dataset.CLASSES,
                                score_thr=score_thr))
            real_pictures.append(out_png)
    else:
        _say('6/6 skipped: no DOTA samples folder (give --dota-samples)')
    outputs['dota_pictures'] = real_pictures
    outputs['minutes'] = round((time.time() - started) / 60, 1)
    return outputs

"""Seconds per training iteration (forward + backward) on the CPU, printed as
ratios to a baseline measured in the same run.

    python bench/train_step.py                      # Refined-Det group
    python bench/train_step.py --size 384 --iters 5 --threads 2

A group is a baseline name and a dict of name -> config path (the baseline
among them); add one to ``GROUPS`` to compare other detectors (e.g. KLDet vs
Rotated FCOS). The models take turns, iteration by iteration, on the same
random batch, so that load from other processes affects them alike; the
median per model is reported.
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rotated_tod.apis import model_builder  # noqa: E402

GROUPS = {
    'refined_det': dict(
        baseline='rotated_retinanet',
        models={
            'rotated_retinanet':
            'configs/baselines/rotated_retinanet_r50_fpn_1x_dota_le90.py',
            'cla_only':
            'configs/refined_det/cla_rotated_retinanet_r50_fpn_1x_dota_le90.py',
            'frhead_only':
            'configs/refined_det/frhead_rotated_retinanet_r50_fpn_1x_dota_le90.py',
            'refined_det':
            'configs/refined_det/refined_det_r50_fpn_1x_dota_le90.py',
        }),
    'kldet': dict(
        baseline='rotated_fcos',
        models={
            'rotated_fcos':
            'configs/kldet/rotated_fcos_r50_fpn_p2_p6_1x_dota_le90.py',
            'kldet_no_tla':
            'configs/kldet/kldet_r50_fpn_1x_dota_le90_no_tla.py',
            'kldet_no_alitsm':
            'configs/kldet/kldet_r50_fpn_1x_dota_le90_no_alitsm.py',
            'kldet': 'configs/kldet/kldet_r50_fpn_1x_dota_le90.py',
        }),
    'fsanet': dict(
        baseline='rotated_fcos_p3_p5',
        models={
            'rotated_fcos_p3_p5':
            'configs/fsanet/rotated_fcos_r50_fpn_p3_p5_1x_dota_le90.py',
            'fa2m_only': 'configs/fsanet/fsanet_r50_1x_dota_le90_fa2m_only.py',
            'sagh_only': 'configs/fsanet/fsanet_r50_1x_dota_le90_sagh_only.py',
            'fsanet': 'configs/fsanet/fsanet_r50_1x_dota_le90.py',
        }),
    'swin_tod': dict(
        baseline='oriented_rcnn',
        models={
            'oriented_rcnn':
            'configs/baselines/oriented_rcnn_r50_fpn_1x_dota_le90.py',
            'inen_only':
            'configs/swin_tod/inen_oriented_rcnn_r50_fpn_1x_dota_le90.py',
            'swl_only':
            'configs/swin_tod/swl_oriented_rcnn_r50_fpn_1x_dota_le90.py',
            'rfrpn_only':
            'configs/swin_tod/rfrpn_oriented_rcnn_r50_fpn_1x_dota_le90.py',
            'swin_tod':
            'configs/swin_tod/swin_tod_oriented_rcnn_r50_fpn_1x_dota_le90.py',
        }),
    'afmnet': dict(
        baseline='rotated_tood',
        models={
            'rotated_tood': 'configs/afmnet/rotated_tood_r50_fpn_1x_dota_le90.py',
            'afmnet_no_stride4':
            'configs/afmnet/afmnet_r50_fpn_1x_dota_le90_no_stride4.py',
            'afmnet_no_masks':
            'configs/afmnet/afmnet_r50_fpn_1x_dota_le90_no_masks.py',
            'afmnet_no_mining':
            'configs/afmnet/afmnet_r50_fpn_1x_dota_le90_no_mining.py',
            'afmnet_no_interaction':
            'configs/afmnet/afmnet_r50_fpn_1x_dota_le90_no_interaction.py',
            'afmnet': 'configs/afmnet/afmnet_r50_fpn_1x_dota_le90.py',
        }),
}


def time_step(model: torch.nn.Module, batch: dict) -> float:
    """Seconds of one forward_train + backward."""
    model.zero_grad(set_to_none=True)
    start = time.perf_counter()
    losses = model.forward_train(**batch)
    total, _ = model._parse_losses(losses)
    total.backward()
    return time.perf_counter() - start


def run(group: str, size: int, iters: int, warmup: int, batch_size: int,
        depth: int) -> dict:
    spec = GROUPS[group]
    models, batches = {}, {}
    for name, path in spec['models'].items():
        cfg = model_builder.load_config(path)
        if depth != 50:
            cfg.model.backbone.depth = depth
            if depth < 50:
                cfg.model.neck.in_channels = [64, 128, 256, 512]
        models[name] = model_builder.build_model(cfg).train()
        if hasattr(models[name], 'set_train_progress'):
            # Detectors with a schedule inside (RotatedTOOD, AFMNet) are
            # timed in their main phase, after the warm-up.
            models[name].set_train_progress(10**6, 10**9)
        batches[name] = model_builder.make_batch(
            model_builder.num_classes_of(cfg), num_imgs=batch_size,
            size=(size, size), boxes_per_img=8)
    times = {name: [] for name in models}
    for it in range(warmup + iters):
        for name, model in models.items():
            seconds = time_step(model, batches[name])
            if it >= warmup:
                times[name].append(seconds)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--group', default='refined_det', choices=GROUPS)
    parser.add_argument('--size', type=int, default=256,
                        help='square image side in pixels')
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--depth', type=int, default=50,
                        help='ResNet depth (18/34 swap the FPN inputs)')
    parser.add_argument('--threads', type=int, default=0,
                        help='torch threads (0: torch default)')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    medians = run(args.group, args.size, args.iters, args.warmup,
                  args.batch_size, args.depth)
    baseline = GROUPS[args.group]['baseline']
    print(f'{args.group}: {args.batch_size} x {args.size}^2 images, '
          f'ResNet-{args.depth}, median of {args.iters} iterations, '
          f'{torch.get_num_threads()} threads')
    for name, seconds in medians.items():
        print(f'  {name:20s} {seconds:8.3f} s/iter  '
              f'{seconds / medians[baseline]:5.2f}x {baseline}')


if __name__ == '__main__':
    main()

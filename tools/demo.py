"""The main job of `make demo`: train a small oriented detector on CPU on the
synthetic tiny-object data plus the training region of a real DOTA harbour,
evaluate it like the DOTA server, write a submission, and show its true
positives, misses and false alarms on a synthetic scene and on the held-out
harbour region.

    python tools/demo.py [--out demo_out] [--data-root data/synthetic]
        [--iters N]

The steps are in rotated_tod.apis.demo; the paths of this repository are here.
"""
import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CONFIG = osp.join(REPO, 'configs', 'baselines',
                       'rotated_retinanet_r18_fpn_synthetic_le90.py')
# DOTA-v1.0 image P0706 (a marina, 531 ships), shipped in the repository.
HARBOUR_IMAGE = osp.join(REPO, 'data_samples', 'harbour', 'P0706.jpg')
HARBOUR_LABELS = osp.join(REPO, 'data_samples', 'harbour', 'P0706.txt')


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='demo_out', help='output folder')
    parser.add_argument('--data-root', default='data/synthetic',
                        help='synthetic dataset folder (made when missing)')
    parser.add_argument('--harbour-root', default='data/harbour',
                        help='harbour suite folder (made when missing)')
    parser.add_argument('--config', default=DEMO_CONFIG,
                        help='detector config')
    parser.add_argument('--train-scenes', type=int, default=24)
    parser.add_argument('--val-scenes', type=int, default=4)
    parser.add_argument('--iters', type=int, default=None,
                        help='training iterations (default: the config)')
    args = parser.parse_args(argv)
    from rotated_tod.apis.demo import DemoPaths, run_demo
    paths = DemoPaths(out_dir=args.out, data_root=args.data_root,
                      harbour_root=args.harbour_root,
                      harbour_image=HARBOUR_IMAGE,
                      harbour_labels=HARBOUR_LABELS)
    out = run_demo(paths, args.config, num_train=args.train_scenes,
                   num_val=args.val_scenes, max_iters=args.iters)
    counts = out['harbour_counts']
    print('\n' + '=' * 72)
    print(f"synthetic validation mAP (VOC07, IoU>0.5, full scenes): "
          f"{out['mAP']:.4f}")
    print(f"harbour held-out ship AP (VOC07, IoU>0.5, right 40 % of P0706): "
          f"{out['harbour_ap']:.4f} (at score >= 0.3: {counts['tp']} found, "
          f"{counts['fn']} missed, {counts['fp']} false alarms)")
    for key in ('checkpoint', 'training_curves', 'metrics', 'submission',
                'submission_zip', 'val_picture', 'harbour_picture'):
        if key in out:
            print(f'{key:>16}: {out[key]}')
    print(f"{'minutes':>16}: {out['minutes']}")


if __name__ == '__main__':
    from rotated_tod.apis.cli import run_cli
    sys.exit(run_cli(main))

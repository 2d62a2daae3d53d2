"""The main job of `make demo`: train a small oriented detector on the
synthetic tiny-object data on CPU, evaluate it like the DOTA server, write a
submission, draw pictures, and run it on the real DOTA sample images.

    python tools/demo.py [--out demo_out] [--data-root data/synthetic]
        [--dota-samples ../shared/data/dota_samples] [--iters N]
"""
import argparse


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='demo_out', help='output folder')
    parser.add_argument('--data-root', default='data/synthetic')
    parser.add_argument('--dota-samples', default=None,
                        help='folder with images/*.png (default: '
                        '../shared/data/dota_samples when present)')
    parser.add_argument('--config', default=None, help='detector config')
    parser.add_argument('--train-scenes', type=int, default=24)
    parser.add_argument('--val-scenes', type=int, default=4)
    parser.add_argument('--iters', type=int, default=None,
                        help='training iterations (default: the config)')
    args = parser.parse_args(argv)
    from rotated_tod.apis.demo import DEMO_CONFIG, run_demo
    out = run_demo(
        out_dir=args.out,
        data_root=args.data_root,
        dota_samples=args.dota_samples,
        config=args.config or DEMO_CONFIG,
        num_train=args.train_scenes,
        num_val=args.val_scenes,
        max_iters=args.iters)
    print('\n' + '=' * 72)
    print(f"synthetic validation mAP (VOC07, IoU>0.5, full scenes): "
          f"{out['mAP']:.4f}")
    for key in ('checkpoint', 'training_curves', 'metrics', 'submission',
                'submission_zip', 'val_picture', 'dota_pictures'):
        if key in out:
            print(f'{key:>16}: {out[key]}')
    print(f"{'minutes':>16}: {out['minutes']}")


if __name__ == '__main__':
    main()

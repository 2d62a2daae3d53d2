"""Generate the synthetic tiny-oriented dataset and split it into patches.

    python tools/data/make_synthetic.py data/synthetic [--train 24 --val 4
        --image-size 1024 --patch-size 512 --gap 128 --seed 0]

Writes ROOT/{train,val}/{images,labelTxt} (full scenes, DOTA layout) and
ROOT/split/{train,val}/{images,annfiles} (patches, as configs expect).
An interrupted run resumes where it stopped.
"""
import argparse
import sys


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='output folder')
    parser.add_argument('--train', type=int, default=24, help='train scenes')
    parser.add_argument('--val', type=int, default=4, help='val scenes')
    parser.add_argument('--image-size', type=int, default=1024)
    parser.add_argument('--patch-size', type=int, default=512)
    parser.add_argument('--gap', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args(argv)
    if min(args.train, args.val) < 0 or min(args.image_size,
                                            args.patch_size) <= 0:
        parser.error('scene counts must be >= 0 and sizes positive')
    if not 0 <= args.gap < args.patch_size:
        parser.error('--gap must lie in [0, --patch-size)')
    from rotated_tod.datasets import prepare_synthetic_dataset
    folders = prepare_synthetic_dataset(
        args.root, args.train, args.val, args.image_size, args.patch_size,
        args.gap, args.seed, args.nproc)
    for name, path in folders.items():
        print(f'{name:>14}: {path}')


if __name__ == '__main__':
    from rotated_tod.apis.cli import run_cli
    sys.exit(run_cli(main))

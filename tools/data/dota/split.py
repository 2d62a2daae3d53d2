"""Split DOTA images into patches (mmrotate layout: OUT/images, OUT/annfiles).

    python tools/data/dota/split.py data/DOTA/train/images data/split_ss/train \
        --ann-dir data/DOTA/train/labelTxt --patch-size 1024 --gap 200
    # multi-scale
    python tools/data/dota/split.py IMG_DIR OUT --ann-dir ANN_DIR \
        --gap 500 --rates 0.5 1.0 1.5
    # test set (no labels)
    python tools/data/dota/split.py data/DOTA/test/images data/split_ss/test

Patches are named {image}__{rate}__{x}___{y}. An interrupted run is resumed
by running the same command again. Bad input stops the run with one line
"error: FILE:LINE: reason (N of M images done; running again resumes)" and
exit status 2; --on-invalid skip drops invalid objects with a warning each.
Check a whole dataset first with tools/data/dota/check.py. See
rotated_tod.datasets.dota_split.
"""
import argparse
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Split DOTA images')
    parser.add_argument('img_dir', help='folder of the full images')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--ann-dir',
                        help='folder of the DOTA labelTxt files (omit for '
                        'a test set: images only)')
    parser.add_argument('--patch-size', type=int, default=1024)
    parser.add_argument('--gap', type=int, default=200,
                        help='overlap of neighbouring patches')
    parser.add_argument('--rates', type=float, nargs='+', default=[1.0],
                        help='image scales, e.g. 0.5 1.0 1.5')
    parser.add_argument('--iof-thr', type=float, default=0.7,
                        help='cut objects keeping this fraction of their '
                        'area or less become difficult')
    parser.add_argument('--no-padding', action='store_true',
                        help='do not pad border patches to full size')
    parser.add_argument('--pad-value', type=int, nargs='+', default=[0],
                        help='fill value: one value or B G R')
    parser.add_argument('--skip-empty', action='store_true',
                        help='do not write patches without objects')
    parser.add_argument('--dota-version', default='v1.0',
                        choices=['v1.0', 'v1.5', 'v2.0'])
    parser.add_argument('--classes', nargs='+',
                        help='class names (overrides --dota-version)')
    parser.add_argument('--save-ext', default='.png',
                        choices=['.png', '.jpg', '.bmp', '.tif'])
    parser.add_argument('--nproc', type=int, default=1)
    parser.add_argument('--on-invalid', default='error',
                        choices=['error', 'skip'],
                        help='an invalid label line (bad format, unknown '
                        'class, degenerate polygon) stops the run (error) or '
                        'its object is dropped with a warning (skip)')
    args = parser.parse_args(argv)
    if len(args.pad_value) not in (1, 3):
        parser.error('--pad-value takes 1 or 3 values')
    if args.patch_size <= 0 or not 0 <= args.gap < args.patch_size:
        parser.error('--patch-size must be positive and --gap in [0, '
                     '--patch-size)')
    if any(r <= 0 for r in args.rates) or not 0 <= args.iof_thr <= 1:
        parser.error('--rates must be positive and --iof-thr in [0, 1]')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    from rotated_tod.datasets.dota_split import split_dataset
    pad_value = args.pad_value[0] if len(args.pad_value) == 1 else tuple(
        args.pad_value)
    totals = split_dataset(
        args.img_dir, args.out_dir, ann_dir=args.ann_dir,
        patch_size=args.patch_size, gap=args.gap, rates=args.rates,
        iof_thr=args.iof_thr, padding=not args.no_padding,
        pad_value=pad_value, keep_empty=not args.skip_empty,
        classes=args.classes, dota_version=args.dota_version,
        save_ext=args.save_ext, nproc=args.nproc,
        on_invalid=args.on_invalid)
    skipped = f', {totals["invalid"]} invalid objects skipped' if totals[
        'invalid'] else ''
    print(f'{totals["images"]} images ({totals["skipped"]} already done), '
          f'{totals["patches"]} patches, {totals["objects"]} objects '
          f'written to {args.out_dir}{skipped}')
    return totals


if __name__ == '__main__':
    from rotated_tod.apis.cli import run_cli
    sys.exit(run_cli(main))

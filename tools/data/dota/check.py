"""Check a DOTA-layout dataset and list every problem at once.

    python tools/data/dota/check.py data/DOTA/train/images \
        data/DOTA/train/labelTxt [--dota-version v1.5] [--outside-margin 0.1]

Prints one line per problem, ``FILE:LINE: reason`` (bad label lines, unknown
classes, degenerate polygons, label files without an image, images without a
label file, unreadable images, vertices far outside the image), then a
summary. Exit status: 0 without problems, 1 with any, 2 when a folder is
missing. See rotated_tod.datasets.dota_check.
"""
import argparse
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Check a DOTA dataset')
    parser.add_argument('img_dir', help='folder of the images')
    parser.add_argument('ann_dir', help='folder of the DOTA label files')
    parser.add_argument('--dota-version', default='v1.0',
                        choices=['v1.0', 'v1.5', 'v2.0'])
    parser.add_argument('--classes', nargs='+',
                        help='class names (overrides --dota-version)')
    parser.add_argument('--outside-margin', type=float, default=0.1,
                        help='a vertex further outside the image than this '
                        'fraction of its side is a problem')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from rotated_tod.datasets.dota_check import check_dota_dataset
    result = check_dota_dataset(
        args.img_dir, args.ann_dir, classes=args.classes,
        dota_version=args.dota_version, outside_margin=args.outside_margin,
        progress=False)
    for problem in result.problems:
        print(problem)
    print(result.summary())
    return 1 if result.problems else 0


if __name__ == '__main__':
    from rotated_tod.apis.cli import run_cli
    sys.exit(run_cli(main))

"""Convert HRSC2016 to the DOTA layout (class ship).

    python tools/data/hrsc/convert.py data/HRSC2016 data/hrsc [--copy]

writes data/hrsc/{trainval,test}/images (symlinks, or copies with --copy)
and data/hrsc/{trainval,test}/labelTxt. See
rotated_tod.datasets.hrsc_convert.
"""
import argparse
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert HRSC2016')
    parser.add_argument('root', help='HRSC2016 folder (with ImageSets/ and '
                        'FullDataSet/)')
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument('--splits', nargs='+', default=['trainval', 'test'])
    parser.add_argument('--copy', action='store_true',
                        help='copy the images instead of symlinking them')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    from rotated_tod.datasets.hrsc_convert import convert_hrsc
    stats = convert_hrsc(args.root, args.out_dir, args.splits, args.copy)
    for split, counts in stats.items():
        print(f'{split}: {counts["images"]} images, {counts["objects"]} '
              f'ships ({counts["difficult"]} difficult)')
    return stats


if __name__ == '__main__':
    from rotated_tod.apis.cli import run_cli
    sys.exit(run_cli(main))

"""Loss and mAP curves of one or more training runs as a PNG.

    python tools/analyze_logs.py work_dirs/a/*.log.json [more.log.json]
        --out curves.png [--keys loss loss_cls mAP] [--legend a b]
"""
import argparse
import sys


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description='Plot training curves')
    parser.add_argument('logs', nargs='+', help='.log.json files')
    parser.add_argument('--out', default='curves.png', help='PNG to write')
    parser.add_argument('--keys', nargs='+', help='keys to plot')
    parser.add_argument('--legend', nargs='+', help='one name per log')
    args = parser.parse_args(argv)
    if args.legend and len(args.legend) != len(args.logs):
        parser.error('--legend needs one name per log file')
    from rotated_tod.apis.log_analysis import plot_training_curves
    keys = plot_training_curves(args.logs, args.out, args.keys, args.legend)
    print(f'plotted {", ".join(keys)} -> {args.out}')


if __name__ == '__main__':
    from rotated_tod.apis.cli import run_cli
    sys.exit(run_cli(main))

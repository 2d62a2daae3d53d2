"""Test a trained detector (CPU or GPU).

    python tools/test.py CONFIG CKPT [--eval mAP] [--format-only
        --submission-dir DIR] [--show-dir DIR] [--out results.pkl]
"""
import argparse
import os
import sys

from mmcv import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a rotated detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump raw results to this pickle')
    parser.add_argument('--eval', nargs='+', help='metrics, e.g. mAP')
    parser.add_argument('--format-only', action='store_true',
                        help='write submission files without evaluating')
    parser.add_argument('--submission-dir',
                        help='where --format-only writes the submission')
    parser.add_argument('--show-dir', help='draw results into this folder')
    parser.add_argument('--show-score-thr', type=float, default=0.3)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--eval-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.out or args.eval or args.format_only or args.show_dir):
        parser.error('give at least one of --out, --eval, --format-only, '
                     '--show-dir')
    if args.eval and args.format_only:
        parser.error('--eval and --format-only cannot both be given')
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from rotated_tod.apis import test_from_config
    test_from_config(
        args.config,
        args.checkpoint,
        eval_metrics=args.eval,
        format_only=args.format_only,
        submission_dir=args.submission_dir,
        show_dir=args.show_dir,
        show_score_thr=args.show_score_thr,
        out=args.out,
        launcher=args.launcher,
        cfg_options=args.cfg_options,
        eval_options=args.eval_options)


if __name__ == '__main__':
    from rotated_tod.apis.cli import run_cli
    sys.exit(run_cli(main))

"""Train a detector from an mmrotate config (CPU or GPU).

    python tools/train.py CONFIG [--work-dir DIR] [--resume-from CKPT]
        [--cfg-options k=v ...] [--launcher pytorch]
"""
import argparse
import os
import sys

from mmcv import DictAction


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a rotated detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument('--resume-from', help='checkpoint to resume from')
    parser.add_argument('--auto-resume', action='store_true',
                        help='resume from the latest checkpoint in work-dir')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate checkpoints during training')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--deterministic', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'])
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from rotated_tod.apis import train_from_config
    train_from_config(
        args.config,
        work_dir=args.work_dir,
        resume_from=args.resume_from,
        auto_resume=args.auto_resume,
        cfg_options=args.cfg_options,
        launcher=args.launcher,
        seed=args.seed,
        deterministic=args.deterministic,
        validate=not args.no_validate)


if __name__ == '__main__':
    from rotated_tod.apis.cli import run_cli
    sys.exit(run_cli(main))

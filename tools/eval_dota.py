"""Evaluate DOTA Task1 submission files as the DOTA server does.

    python tools/eval_dota.py DET_DIR ANN_DIR [--version v1.0|v1.5|v2.0]
        [--classes C ...] [--iou-thr 0.5 [0.55 ...]] [--voc12] [--size-ranges]
        [--workers N] [--out result.json]

DET_DIR holds ``Task1_<class>.txt`` (directly, under ``Task1/``, or as a
zip); ANN_DIR holds the label files, which define the image set.
"""
import argparse
import json
import math
import sys

from rotated_tod.core.evaluation import eval_dota_task1, format_report
from rotated_tod.core.fileio import DOTA_CLASSES, atomic_write_text, resolve_classes


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('det_dir', help='Task1 files: folder or zip')
    parser.add_argument('ann_dir', help='folder of DOTA label files')
    parser.add_argument('--version', default='v1.0', choices=sorted(DOTA_CLASSES),
                        help='DOTA class set (default v1.0)')
    parser.add_argument('--classes', nargs='+',
                        help='class names (override --version)')
    parser.add_argument('--iou-thr', nargs='+', type=float, default=[0.5],
                        help='IoU threshold(s); several add mAP_<t> and their mean')
    parser.add_argument('--voc12', action='store_true',
                        help='VOC12 area AP instead of VOC07 11-point')
    parser.add_argument('--size-ranges', action='store_true',
                        help="AP by AI-TOD size range: very tiny 2-8, tiny "
                        '8-16, small 16-32, medium 32-64 px (sqrt of the '
                        'polygon area; COCO-style ignore rules)')
    parser.add_argument('--on-invalid', default='error',
                        choices=['error', 'skip'],
                        help='an invalid label line stops the evaluation '
                        '(error) or its object is left out of the ground '
                        'truth with a warning (skip)')
    parser.add_argument('--workers', type=int,
                        help='processes reading and matching the class files '
                        '(default: one per core, at most 4, for submissions '
                        'of 8 MiB and more; 1: no worker processes)')
    parser.add_argument('--out', help='write the report as JSON (atomically)')
    return parser.parse_args(argv)


def _json_safe(value):
    """NaN (undefined recall) -> null: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def main(argv=None) -> int:
    args = parse_args(argv)
    classes = resolve_classes(args.classes, args.version)
    report = eval_dota_task1(
        args.det_dir, args.ann_dir, classes,
        iou_thr=args.iou_thr if len(args.iou_thr) > 1 else args.iou_thr[0],
        use_07_metric=not args.voc12, size_ranges=args.size_ranges,
        on_invalid=args.on_invalid, workers=args.workers)
    print(format_report(report))
    if args.out:
        atomic_write_text(args.out,
                          json.dumps(_json_safe(report), indent=2) + '\n')
        print(f'report written to {args.out}')
    return 0


if __name__ == '__main__':
    from rotated_tod.apis.cli import run_cli
    sys.exit(run_cli(main))

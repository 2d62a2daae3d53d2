"""Train and evaluate every method row on one common budget and write the
leaderboard (library: :mod:`rotated_tod.apis.leaderboard`).

    python bench/leaderboard.py [--suite synthetic harbour] [--only ROW ...]
        [--seeds N] [--iters N] [--val-scenes N] [--budget cpu|gpu]
        [--report-only]

Writes bench/results/leaderboard.json (one record per suite, row and seed,
saved as each run finishes), docs/leaderboard.md and docs/leaderboard.png
(another budget, `--budget gpu`, `--iters N` or `--val-scenes N`, writes its
own table and chart next to them, e.g. docs/leaderboard_cpu_3000it.md).
Finished runs are skipped and an interrupted run resumes from its last
checkpoint (work_dirs/leaderboard/), so the same command continues a stopped
leaderboard. A full CPU leaderboard takes hours; run it in the background:

    nohup python bench/leaderboard.py > bench/results/leaderboard.log 2>&1 &
"""
import argparse
import importlib.util
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
ROWS_FILE = osp.join(REPO, 'bench', 'leaderboard_rows.py')
RESULTS = osp.join(REPO, 'bench', 'results', 'leaderboard.json')
TABLE = osp.join(REPO, 'docs', 'leaderboard.md')
CHART = osp.join(REPO, 'docs', 'leaderboard.png')
DATA_ROOT = osp.join(REPO, 'data', 'leaderboard')
WORK_ROOT = osp.join(REPO, 'work_dirs', 'leaderboard')
HARBOUR_IMAGE = osp.join(REPO, 'data_samples', 'harbour', 'P0706.jpg')
HARBOUR_LABELS = osp.join(REPO, 'data_samples', 'harbour', 'P0706.txt')
COMMAND = 'python bench/leaderboard.py'


def load_rows(path: str = ROWS_FILE) -> list:
    spec = importlib.util.spec_from_file_location('leaderboard_rows', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.ROWS)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'{text} must be a positive integer')
    return value


def parse_args(argv=None) -> argparse.Namespace:
    from rotated_tod.apis.leaderboard import BUDGETS, SUITES
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--suite', nargs='+', default=list(SUITES),
                        choices=SUITES, help='suites (default: all)')
    parser.add_argument('--only', nargs='+', metavar='ROW',
                        help='row names to run (default: all rows)')
    parser.add_argument('--seeds', type=positive_int,
                        help="seeds per row (default: the row's own)")
    parser.add_argument('--iters', type=positive_int,
                        help='training iterations (default: the budget)')
    parser.add_argument('--val-scenes', type=positive_int, metavar='N',
                        help='synthetic validation scenes (default: the '
                        "budget's)")
    parser.add_argument('--budget', default='cpu', choices=sorted(BUDGETS))
    parser.add_argument('--report-only', action='store_true',
                        help='only rewrite the table and chart from the JSON')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from rotated_tod.apis.leaderboard import (
        BUDGETS,
        load_records,
        plan_runs,
        report_suffix,
        run_leaderboard,
        with_iters,
        with_val_scenes,
        write_chart,
        write_table,
    )
    rows = load_rows()
    budget = with_val_scenes(with_iters(BUDGETS[args.budget], args.iters),
                             args.val_scenes)
    command = COMMAND + ('' if args.budget == 'cpu' else
                         f' --budget {args.budget}') + (
        '' if args.iters is None else f' --iters {args.iters}') + (
        '' if args.val_scenes is None else
        f' --val-scenes {args.val_scenes}')
    # another budget's table and chart sit next to the main ones
    suffix = report_suffix(budget)
    table, chart = (suffix.join(osp.splitext(path)) for path in (TABLE, CHART))

    def report(records):
        write_table(records, rows, budget, table, command)
        write_chart(records, rows, budget, chart)
        print(f'[leaderboard] wrote {osp.relpath(table, REPO)} and '
              f'{osp.relpath(chart, REPO)}', flush=True)

    if args.report_only:
        report(load_records(RESULTS))
        return 0
    try:
        plan_runs(rows, args.suite, args.seeds, args.only)
    except ValueError as err:
        print(f'error: {ROWS_FILE}: {err}', file=sys.stderr)
        return 2
    os.makedirs(osp.dirname(RESULTS), exist_ok=True)
    records, failed = run_leaderboard(
        rows, budget, RESULTS, DATA_ROOT, WORK_ROOT, REPO,
        suites=args.suite, seeds=args.seeds, only=args.only,
        harbour_image=HARBOUR_IMAGE, harbour_labels=HARBOUR_LABELS,
        on_record=report,
        say=lambda msg: print(f'[leaderboard] {msg}', flush=True))
    report(records)
    if failed:
        print(f'error: {len(failed)} run(s) failed (tracebacks above; '
              f'rerun to retry): {failed}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Pairwise Gaussian metrics against mmcv's rotated IoU on the CPU.

    python bench/gaussian_metrics.py            # N x M in 1k x 100, 20k x 200,
                                                # 100k x 1000 (several minutes)
    python bench/gaussian_metrics.py --quick    # 1k x 100 and 5k x 200

For each size, every similarity of :func:`gaussian_similarity` and
``mmcv.ops.box_iou_rotated`` get the same float32 boxes (DOTA-like: centres
in a 4000 px image, sides 4-200 px, any angle). Each measurement runs in a
fresh process, so its peak resident memory (``ru_maxrss``) minus the
resident memory just before the call is the memory the call needed, output
included (``out`` is the output's own size). Rotated IoU costs the same per
pair whatever the pair, so for the largest size it is timed on its first
rows only (``--iou-pairs``) and scaled to all rows, as printed. Both run
with the same torch thread count (``--threads``; mmcv's CPU kernel uses one
thread whatever the setting).
"""
import argparse
import multiprocessing
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FULL_SIZES = ((1000, 100), (20000, 200), (100000, 1000))
QUICK_SIZES = ((1000, 100), (5000, 200))
METRICS = ('nwd', 'gwd', 'kld', 'jd', 'bcd', 'kfiou')


def make_boxes(num: int, seed: int):
    import torch
    gen = torch.Generator().manual_seed(seed)
    centre = torch.rand(num, 2, generator=gen) * 4000
    long_side = 4 + torch.rand(num, 1, generator=gen) * 196
    short_side = long_side * (0.2 + 0.8 * torch.rand(num, 1, generator=gen))
    angle = (torch.rand(num, 1, generator=gen) - 0.5) * torch.pi
    return torch.cat([centre, long_side, short_side, angle], 1)


def _resident_bytes() -> int:
    with open('/proc/self/statm') as statm:
        return int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def measure(task: tuple) -> tuple:
    """In a fresh process: (seconds per call, peak extra bytes, out bytes)."""
    metric, rows, cols, threads, seed = task
    import torch
    from mmcv.ops import box_iou_rotated

    from rotated_tod.core.bbox.gaussian import gaussian_similarity
    torch.set_num_threads(threads)
    boxes1 = make_boxes(rows, seed)
    boxes2 = make_boxes(cols, seed + 1)
    if metric == 'iou':
        def call():
            return box_iou_rotated(boxes1, boxes2)
    else:
        def call():
            return gaussian_similarity(boxes1, boxes2, metric)
    before = _resident_bytes()
    start = time.perf_counter()
    out = call()
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    repeats = 1
    # small sizes: repeat to at least 0.5 s and keep the best
    while elapsed * repeats < 0.5 and repeats < 50:
        start = time.perf_counter()
        call()
        elapsed = min(elapsed, time.perf_counter() - start)
        repeats += 1
    return elapsed, max(0, peak - before), out.numel() * out.element_size()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='small sizes only (about a minute)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads (default: torch default)')
    parser.add_argument('--iou-pairs', type=int, default=4_000_000,
                        help='time rotated IoU on at most this many pairs '
                        'and scale to the full size')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    import torch
    threads = args.threads or torch.get_num_threads()
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    context = multiprocessing.get_context('spawn')
    print(f'torch threads: {threads}; times in ns per pair; ratio = rotated '
          f'IoU time / metric time; mem = peak extra MiB (out = output MiB)')
    worst = float('inf')
    with context.Pool(1, maxtasksperchild=1) as pool:
        for rows, cols in sizes:
            iou_rows = min(rows, max(1, args.iou_pairs // cols))
            iou_time, iou_mem, iou_out = pool.apply(
                measure, (('iou', iou_rows, cols, threads, args.seed), ))
            iou_per_pair = iou_time / (iou_rows * cols)
            scaled = '' if iou_rows == rows else \
                f' (timed on the first {iou_rows} rows, scaled)'
            print(f'\n{rows} x {cols}: rotated IoU {iou_per_pair * 1e9:.0f} '
                  f'ns/pair, total {iou_per_pair * rows * cols:.2f} s'
                  f'{scaled}, mem {iou_mem / 2**20:.0f} MiB (out '
                  f'{iou_out / 2**20:.0f}, {iou_rows} rows)')
            for metric in METRICS:
                elapsed, mem, out = pool.apply(
                    measure, ((metric, rows, cols, threads, args.seed), ))
                per_pair = elapsed / (rows * cols)
                ratio = iou_per_pair / per_pair
                worst = min(worst, ratio)
                print(f'  {metric:6s} {per_pair * 1e9:7.1f} ns/pair  '
                      f'total {elapsed:7.3f} s  ratio {ratio:6.1f}x  '
                      f'mem {mem / 2**20:6.0f} MiB (out {out / 2**20:.0f})')
    print(f'\nslowest metric vs rotated IoU: {worst:.1f}x faster '
          f'(target >= 3x)')


if __name__ == '__main__':
    main()

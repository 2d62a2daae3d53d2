"""Pairwise Gaussian metrics against mmcv's rotated IoU on the CPU.

    python bench/gaussian_metrics.py            # N x M in 1k x 100, 20k x 200,
                                                # 100k x 1000 (several minutes)
    python bench/gaussian_metrics.py --quick    # 1k x 100 and 5k x 200

For each size, every similarity of :func:`gaussian_similarity` and
``mmcv.ops.box_iou_rotated`` get the same float32 boxes (DOTA-like: centres
in a 4000 px image, sides 4-200 px, any angle), in one fresh process per
size for the times and another for the memory. ``mem`` is the peak
resident memory above the level before the call (sampled every 0.5 ms by a
thread), output included (``out`` is the
output's own size). Rotated IoU costs the same per pair whatever the pair,
so for the largest size it is timed on its first rows only
(``--iou-pairs``) and scaled to all rows, as printed. Both run with the
same torch thread count (``--threads``, default 1: mmcv's CPU kernel is
single-threaded, and on an oversubscribed machine every multi-threaded
torch op waits for its threads to be scheduled).
"""
import argparse
import functools
import multiprocessing
import os
import sys
import threading
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


class PeakMemory:
    """Peak resident memory above the level at entry, sampled every 0.5 ms
    by a thread (torch releases the GIL while it computes)."""

    def __enter__(self):
        self.start = _resident_bytes()
        self.peak = self.start
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while self._running:
            self.peak = max(self.peak, _resident_bytes())
            time.sleep(0.0005)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()
        self.peak = max(self.peak, _resident_bytes())
        self.extra = self.peak - self.start


def time_call(call) -> float:
    """Seconds per call; small calls are repeated up to 0.5 s, best kept."""
    best, spent = float('inf'), 0.0
    while spent < 0.5:
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
        if elapsed > 0.5:
            break
    return best


def memory_of_call(call) -> tuple:
    """(peak extra bytes, output bytes) of one call."""
    with PeakMemory() as memory:
        out = call()
    return memory.extra, out.numel() * out.element_size()


def measure_size(task: tuple) -> dict:
    """In a fresh process: rotated IoU and every metric on one size, timed
    (``mode='time'``) or their memory measured (``mode='memory'``)."""
    rows, cols, iou_rows, threads, seed, mode = task
    import torch
    from mmcv.ops import box_iou_rotated

    from rotated_tod.core.bbox.gaussian import gaussian_similarity
    torch.set_num_threads(threads)
    boxes1 = make_boxes(rows, seed)
    boxes2 = make_boxes(cols, seed + 1)
    measure = time_call if mode == 'time' else memory_of_call
    results = {'iou': measure(
        functools.partial(box_iou_rotated, boxes1[:iou_rows], boxes2))}
    for metric in METRICS:
        results[metric] = measure(
            functools.partial(gaussian_similarity, boxes1, boxes2, metric))
    return results


def run_child(task: tuple, malloc_env: dict) -> dict:
    context = multiprocessing.get_context('spawn')
    saved = dict(os.environ)
    os.environ.update(malloc_env)
    try:
        with context.Pool(1) as pool:
            return pool.apply(measure_size, (task, ))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='small sizes only (about a minute)')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (default 1: mmcv\'s rotated IoU '
                        'kernel is single-threaded)')
    parser.add_argument('--iou-pairs', type=int, default=4_000_000,
                        help='time rotated IoU on at most this many pairs '
                        'and scale to the full size')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    threads = args.threads
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    print(f'torch threads: {threads}; ratio = rotated IoU time / metric '
          f'time; mem = peak extra MiB (out = output MiB)')
    worst = float('inf')
    for rows, cols in sizes:
        iou_rows = min(rows, max(1, args.iou_pairs // cols))
        task = (rows, cols, iou_rows, threads, args.seed)
        times = run_child(task + ('time', ), {})
        # For the memory pass only: buffers >= 2 MiB (outputs, unchunked
        # temporaries) get their own mapping, unmapped when freed, so the
        # resident memory follows them (glibc would otherwise raise the
        # threshold and keep freed buffers resident, hiding later peaks).
        # Smaller buffers (the chunk temporaries) stay in the heap: its high
        # water mark is counted once, by the first call that reaches it.
        memory = run_child(task + ('memory', ),
                           {'MALLOC_MMAP_THRESHOLD_': str(2 * 2**20)})
        iou_per_pair = times.pop('iou') / (iou_rows * cols)
        iou_mem, iou_out = memory.pop('iou')
        scaled = '' if iou_rows == rows else \
            f' (timed on the first {iou_rows} rows, scaled)'
        print(f'\n{rows} x {cols}: rotated IoU {iou_per_pair * 1e9:.0f} '
              f'ns/pair, total {iou_per_pair * rows * cols:.2f} s{scaled}, '
              f'mem {iou_mem / 2**20:.0f} MiB (out {iou_out / 2**20:.0f})')
        for metric, elapsed in times.items():
            mem, out = memory[metric]
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

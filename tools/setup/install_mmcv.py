"""Install mmcv-full into the running interpreter's environment, building it
from source with its C++ ops when pip has no wheel for it, and show that the
build is alive.

    python tools/setup/install_mmcv.py --log .venv/mmcv-build.log --jobs 2

pip's own output (``-v``, every compiler line) goes to the log file; the
terminal gets what is happening, how long it usually takes, and a progress
line every ``--every`` seconds (compiled units out of the total, from ninja's
``[n/m]`` lines). On failure the last lines of the log are shown and the log
is named. Uses the standard library only: it runs before mmcv exists.
"""
import argparse
import os
import re
import subprocess
import sys
import threading
import time

# Measured wall time of the build (mmcv-full 1.7.2, CPU ops, torch 2.12.1):
# see the README's set-up section for the machines behind these figures.
EXPECTED = {
    2: '6-22 min on 2 cores (the longer when the machine is busy)',
    8: 'about 3-5 min on 8 cores',
}
# pip -v indents the build's output
NINJA_STEP = re.compile(r'^\s*\[(\d+)/(\d+)\]')


def _expected(jobs: int) -> str:
    return EXPECTED.get(jobs) or (f'{EXPECTED[2]}; {EXPECTED[8]}')


def _have_mmcv(version: str) -> bool:
    probe = ('import importlib.metadata as m, sys; '
             f'sys.exit(m.version("mmcv-full") != "{version}")')
    return subprocess.run([sys.executable, '-c', probe],
                          stderr=subprocess.DEVNULL).returncode == 0


def _fmt(seconds: float) -> str:
    return f'{int(seconds) // 60}:{int(seconds) % 60:02d}'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--requirements', default='requirements/mmcv.txt')
    parser.add_argument('--log', default='.venv/mmcv-build.log')
    parser.add_argument('--jobs', type=int, default=2,
                        help='parallel compiler processes (MAX_JOBS)')
    parser.add_argument('--every', type=float, default=30.0,
                        help='seconds between progress lines')
    args = parser.parse_args(argv)

    with open(args.requirements, encoding='utf-8') as f:
        pins = [ln.split('==', 1)[1].strip() for ln in f
                if ln.startswith('mmcv-full==')]
    if pins and _have_mmcv(pins[0]):
        print(f'mmcv-full {pins[0]} already installed', flush=True)
        return 0

    print(f'Installing mmcv-full {pins[0] if pins else ""}: without a '
          'cached wheel pip compiles it from source with its C++ ops, '
          f'which takes {_expected(args.jobs)}. Full log: {args.log}',
          flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    env = dict(os.environ, MMCV_WITH_OPS='1', MAX_JOBS=str(args.jobs))
    cmd = [sys.executable, '-m', 'pip', 'install', '-v',
           '--no-build-isolation', '-r', args.requirements]
    start = time.monotonic()
    state = {'done': 0, 'total': 0, 'lines': 0}
    finished = threading.Event()

    def report() -> None:
        while not finished.wait(args.every):
            if state['total']:
                what = f'{state["done"]}/{state["total"]} units compiled'
            else:
                what = f'{state["lines"]} log lines, compiling not started'
            print(f'  mmcv-full: {_fmt(time.monotonic() - start)} elapsed, '
                  f'{what}', flush=True)

    ticker = threading.Thread(target=report, daemon=True)
    ticker.start()
    with open(args.log, 'w', encoding='utf-8') as log:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                errors='replace')
        for line in proc.stdout:
            log.write(line)
            state['lines'] += 1
            step = NINJA_STEP.match(line)
            if step:
                state['done'], state['total'] = map(int, step.groups())
        code = proc.wait()
    finished.set()
    elapsed = _fmt(time.monotonic() - start)
    if code != 0:
        with open(args.log, encoding='utf-8', errors='replace') as f:
            tail = f.readlines()[-25:]
        sys.stderr.write(''.join(tail))
        sys.stderr.write(f'error: {args.log}: mmcv-full install failed after '
                         f'{elapsed} (exit {code}); the full log is there\n')
        return 1
    built = 'compiled' if state['total'] else 'installed from the wheel cache'
    print(f'mmcv-full {built} in {elapsed}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""The set-up step that builds mmcv-full: says what it does, shows progress,
names its log on failure (run as the Makefile runs it)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / 'tools' / 'setup' / 'install_mmcv.py'

sys.path.insert(0, str(SCRIPT.parent))
import install_mmcv  # noqa: E402


def run(tmp_path, requirement, *extra):
    req = tmp_path / 'mmcv.txt'
    req.write_text(requirement + '\n')
    log = tmp_path / 'logs' / 'build.log'
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), '--requirements', str(req), '--log',
         str(log), *extra], capture_output=True, text=True, timeout=300)
    return proc, log


def test_installed_version_is_not_rebuilt(tmp_path):
    import importlib.metadata
    version = importlib.metadata.version('mmcv-full')
    proc, log = run(tmp_path, f'mmcv-full=={version}')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f'mmcv-full {version} already installed'
    assert not log.exists()


def test_failure_names_the_log_without_traceback(tmp_path):
    missing = tmp_path / 'no-such-source-dir'
    proc, log = run(tmp_path, str(missing), '--every', '0.2')
    assert proc.returncode == 1
    assert 'Full log: ' + str(log) in proc.stdout
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: {log}: mmcv-full install failed after ')
    assert 'Traceback' not in proc.stderr
    assert str(missing) in log.read_text()


@pytest.mark.parametrize('line,step', [
    ('[3/112] c++ -MMD -MF a.o.d -c a.cpp -o a.o', (3, 112)),
    ('[112/112] c++ -shared a.o -o _ext.so', (112, 112)),
    # as pip -v prints it
    ('  [3/73] c++ -MMD -MF a.o.d -c a.cpp -o a.o', (3, 73)),
    ('  running build_ext', None),
])
def test_progress_reads_ninja_steps(line, step):
    match = install_mmcv.NINJA_STEP.match(line)
    assert (tuple(map(int, match.groups())) if match else None) == step

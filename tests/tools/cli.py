"""Run a CLI of tools/ in-process (as ``python tools/x.py ARGS`` would) or,
to check what a user sees (exit status, stderr), in a new process."""
import importlib.util
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def load_tool(relpath: str):
    """The module of ``tools/<relpath>``."""
    spec = importlib.util.spec_from_file_location(
        'tool_' + relpath.replace('/', '_').replace('.py', ''),
        os.path.join(REPO, 'tools', relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(relpath: str, argv: list):
    return load_tool(relpath).main([str(a) for a in argv])


def run_tool_process(relpath: str, argv: list,
                     timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python tools/<relpath> ARGV`` in a new process, as a user does."""
    return subprocess.run(
        [sys.executable, os.path.join(REPO, 'tools', relpath)] +
        [str(a) for a in argv], capture_output=True, text=True,
        timeout=timeout, cwd=REPO)


def error_line(proc: subprocess.CompletedProcess) -> str:
    """The one ``error: ...`` line of a run stopped by bad input, checking
    the exit status 2, that there is exactly one such line, that it is the
    last line of stderr and that no traceback was printed."""
    lines = proc.stderr.splitlines()
    errors = [line for line in lines if line.startswith('error: ')]
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert 'Traceback' not in proc.stderr, proc.stderr
    assert len(errors) == 1 and lines[-1] == errors[0], proc.stderr
    return errors[0]

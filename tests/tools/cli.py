"""Run a CLI of tools/ in-process (as ``python tools/x.py ARGS`` would)."""
import importlib.util
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def run_tool(relpath: str, argv: list):
    spec = importlib.util.spec_from_file_location(
        'tool_' + relpath.replace('/', '_').replace('.py', ''),
        os.path.join(REPO, 'tools', relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main([str(a) for a in argv])

"""The ``__main__`` of every tool: bad input is one line, bugs keep their
traceback.

    if __name__ == '__main__':
        from rotated_tod.apis.cli import run_cli
        sys.exit(run_cli(main))
"""
import sys
from typing import Any, Callable, List, Optional

from ..core.fileio import InputError, original_input_error

# Exit status of a run stopped by bad input (argparse uses 2 for bad usage).
INPUT_ERROR_STATUS = 2


def run_cli(main: Callable[[Optional[List[str]]], Any],
            argv: Optional[List[str]] = None) -> int:
    """Run a tool's ``main(argv)`` and return its exit status.

    An :class:`~rotated_tod.core.fileio.InputError` (a bad data file, a
    missing folder) prints ``error: <path>:<line>: <reason>`` on stderr and
    gives status 2; any other exception propagates with its traceback. An
    ``int`` returned by ``main`` is the status, anything else means 0.
    """
    try:
        result = main(argv)
    except InputError as err:
        sys.stdout.flush()
        print(f'error: {original_input_error(err)}', file=sys.stderr)
        return INPUT_ERROR_STATUS
    return result if isinstance(result, int) else 0

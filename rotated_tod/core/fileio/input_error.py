"""Errors in what a user gives us (data files, folders), told apart from bugs.

A tool run through :func:`rotated_tod.apis.cli.run_cli` prints an
:class:`InputError` as one line ``error: <path>:<line>: <reason>`` (or
``error: <path>: <reason>``) and exits with status 2; any other exception is
our bug and keeps its traceback.

Invalid objects (a bad label line, an unknown class, a degenerate polygon) go
through one policy, ``on_invalid``: ``'error'`` (the default) raises the first
one; ``'skip'`` drops the object, never its image, logs a warning naming
``file:line`` and lets the caller report the count at the end
(:func:`handle_invalid`, :func:`warn_skipped`).
"""
import logging
from typing import Optional, Sequence

ON_INVALID = ('error', 'skip')

logger = logging.getLogger('rotated_tod')


class InputError(ValueError):
    """Bad user input, located by ``path`` and, when known, a 1-based ``line``.

    ``InputError(path, reason, line)``; a single argument is a whole message
    (mmcv's registry re-raises ``type(err)(message)``). ``kind`` names the
    kind of problem for summaries (e.g. ``'unknown class'``); ``note`` (e.g.
    how much of a run was done) is appended in parentheses.
    """

    def __init__(self, path: str, reason: Optional[str] = None,
                 line: Optional[int] = None, kind: str = 'bad input'):
        super().__init__(path, reason, line)
        self.path = path
        self.reason = reason
        self.line = line
        self.kind = kind
        self.note: Optional[str] = None

    def __str__(self) -> str:
        if self.reason is None:
            text = str(self.path)
        elif self.line is None:
            text = f'{self.path}: {self.reason}'
        else:
            text = f'{self.path}:{self.line}: {self.reason}'
        return f'{text} ({self.note})' if self.note else text


class MissingInputError(InputError, FileNotFoundError):
    """A file or folder the user named does not exist (still a
    ``FileNotFoundError`` for callers that catch that)."""


def original_input_error(err: InputError) -> InputError:
    """The first :class:`InputError` of a chain of re-raises (mmcv's registry
    re-raises with the class name prepended; the original has the exact
    ``path:line``). A chain cut with ``raise ... from None`` ends there."""
    while True:
        cause = err.__cause__ if err.__cause__ is not None else (
            None if err.__suppress_context__ else err.__context__)
        if not isinstance(cause, InputError):
            return err
        err = cause


def check_on_invalid(on_invalid: str) -> str:
    """``on_invalid`` if it is one of :data:`ON_INVALID`, else ``ValueError``."""
    if on_invalid not in ON_INVALID:
        raise ValueError(f'on_invalid must be one of {ON_INVALID}, got '
                         f'{on_invalid!r}')
    return on_invalid


def handle_invalid(problems: Sequence[InputError], on_invalid: str) -> int:
    """Apply ``on_invalid`` to the invalid objects of one file.

    Returns:
        the number of objects skipped (0 when there is no problem).

    Raises:
        InputError: the first problem, with ``on_invalid='error'``.
    """
    check_on_invalid(on_invalid)
    if problems and on_invalid == 'error':
        raise problems[0]
    for problem in problems:
        logger.warning('warning: %s; object skipped', problem)
    return len(problems)


def warn_skipped(count: int, what: str) -> None:
    """The count at the end of a run with ``on_invalid='skip'``."""
    if count:
        logger.warning('warning: %d invalid object(s) skipped in %s '
                       '(on_invalid=skip)', count, what)

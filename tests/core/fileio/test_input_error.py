import logging
import pickle

import pytest

from rotated_tod.core.fileio import (
    DOTALabelError,
    InputError,
    MissingInputError,
    handle_invalid,
    original_input_error,
    warn_skipped,
)


def test_message_forms():
    assert str(InputError('a.txt', 'bad', 3)) == 'a.txt:3: bad'
    assert str(InputError('dir', 'not found')) == 'dir: not found'
    # one argument: a whole message, as mmcv's registry re-raises
    assert str(InputError('DOTAPolyDataset: a.txt:3: bad')) == \
        'DOTAPolyDataset: a.txt:3: bad'
    err = InputError('a.txt', 'bad', 3)
    err.note = '2 of 5 images done'
    assert str(err) == 'a.txt:3: bad (2 of 5 images done)'
    assert isinstance(err, ValueError)
    assert isinstance(MissingInputError('d', 'gone'), FileNotFoundError)


@pytest.mark.parametrize('err', [
    InputError('a.txt', 'bad', 3, kind='outside image'),
    MissingInputError('folder', 'not found'),
    DOTALabelError('b.txt', 'unknown class', 7, kind='unknown class'),
])
def test_survives_pickling_between_processes(err):
    # errors of split workers come back to the parent through pickle
    err.note = 'note'
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert (back.path, back.reason, back.line, back.kind, back.note) == (
        err.path, err.reason, err.line, err.kind, err.note)
    assert str(back) == str(err)


def test_original_error_of_a_reraise():
    try:
        try:
            raise DOTALabelError('a.txt', 'unknown class', 2)
        except InputError as inner:
            # chained implicitly, as mmcv's registry re-raises
            raise type(inner)(f'DOTAPolyDataset: {inner}')  # noqa: B904
    except InputError as outer:
        assert str(original_input_error(outer)) == 'a.txt:2: unknown class'
    plain = InputError('x', 'y')
    assert original_input_error(plain) is plain


def test_handle_invalid_policies(caplog):
    problems = [DOTALabelError('a.txt', 'r1', 2), DOTALabelError('a.txt', 'r2', 5)]
    assert handle_invalid([], 'error') == 0
    with pytest.raises(DOTALabelError) as err:
        handle_invalid(problems, 'error')
    assert err.value is problems[0]
    with caplog.at_level(logging.WARNING, logger='rotated_tod'):
        assert handle_invalid(problems, 'skip') == 2
        warn_skipped(2, 'the label files of ann')
        warn_skipped(0, 'nothing')
    assert caplog.messages == [
        'warning: a.txt:2: r1; object skipped',
        'warning: a.txt:5: r2; object skipped',
        'warning: 2 invalid object(s) skipped in the label files of ann '
        '(on_invalid=skip)'
    ]
    with pytest.raises(ValueError, match='on_invalid'):
        handle_invalid([], 'ignore')

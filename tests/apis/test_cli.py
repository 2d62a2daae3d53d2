import pytest

from rotated_tod.apis.cli import run_cli
from rotated_tod.core.fileio import DOTALabelError, InputError


def _raises(err):
    def main(argv):
        raise err
    return main


def test_input_error_is_one_line_with_status_2(capsys):
    code = run_cli(_raises(InputError('a.txt', 'bad', 4)))
    assert code == 2
    captured = capsys.readouterr()
    assert captured.err == 'error: a.txt:4: bad\n' and captured.out == ''


def test_a_reraise_prints_the_original(capsys):
    def main(argv):
        try:
            raise DOTALabelError('a.txt', "unknown class 'x'", 2)
        except InputError as err:      # as mmcv's registry does
            raise type(err)(f'DOTAPolyDataset: {err}') from None

    def main_chained(argv):
        try:
            raise DOTALabelError('a.txt', "unknown class 'x'", 2)
        except InputError as err:   # chained implicitly, as mmcv does
            raise type(err)(f'DOTAPolyDataset: {err}')  # noqa: B904

    assert run_cli(main) == 2
    # with the chain cut, only the re-raised message is left
    assert capsys.readouterr().err == \
        "error: DOTAPolyDataset: a.txt:2: unknown class 'x'\n"
    assert run_cli(main_chained) == 2
    assert capsys.readouterr().err == "error: a.txt:2: unknown class 'x'\n"


def test_bugs_keep_their_traceback_and_results_pass_through():
    with pytest.raises(KeyError):
        run_cli(_raises(KeyError('bug')))
    with pytest.raises(ValueError):     # a ValueError is not bad input
        run_cli(_raises(ValueError('bug')))
    assert run_cli(lambda argv: 3) == 3
    assert run_cli(lambda argv: {'images': 1}) == 0
    assert run_cli(lambda argv: argv, ['x']) == 0

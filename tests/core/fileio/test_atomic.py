"""Atomic writes: the content lands whole, nothing temporary is left, and the
file gets the permissions a plain write would give it."""
import os
import stat

import numpy as np
import pytest

from rotated_tod.core.fileio.atomic import (
    atomic_write_bytes,
    atomic_write_image,
    atomic_write_text,
    read_image,
)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_file_follows_the_umask(tmp_path, umask_022):
    plain = tmp_path / 'plain.txt'
    plain.write_text('x')
    atomic_write_text(str(tmp_path / 'a' / 'result.json'), '{"ok": 1}')
    result = tmp_path / 'a' / 'result.json'
    assert result.read_text() == '{"ok": 1}'
    assert _mode(result) == _mode(plain) == 0o644
    assert os.listdir(tmp_path / 'a') == ['result.json']


def test_a_replaced_file_keeps_its_permissions(tmp_path, umask_022):
    path = tmp_path / 'table.md'
    path.write_text('old')
    os.chmod(path, 0o640)
    atomic_write_bytes(str(path), b'new')
    assert path.read_bytes() == b'new'
    assert _mode(path) == 0o640


def test_images_are_written_whole(tmp_path, umask_022):
    image = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    path = str(tmp_path / 'patch.png')
    atomic_write_image(path, image)
    np.testing.assert_array_equal(read_image(path), image)
    assert _mode(path) == 0o644


def test_a_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / 'out.bin'
    with pytest.raises(TypeError):
        atomic_write_bytes(str(path), object())
    assert os.listdir(tmp_path) == []

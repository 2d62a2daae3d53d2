"""Atomic file writes: a reader never sees a half-written result file."""
import os
import stat
import tempfile
from typing import Union

import numpy as np

from .input_error import InputError, MissingInputError


def _new_file_mode(path: str) -> int:
    """The permissions ``path`` gets: those of the file it replaces, or what
    ``open()`` would give a new file under the process's umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    The file gets the permissions a plain write would give it (the temporary
    file is created 0600, which would otherwise hide results from the other
    users of a shared machine)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.tmp-',
                               suffix=os.path.basename(path))
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode('utf-8'))


def atomic_write_image(path: str, image: np.ndarray) -> None:
    """Encode a BGR ``uint8`` image by the file's extension and write it atomically."""
    import cv2
    ext = os.path.splitext(path)[1] or '.png'
    ok, buf = cv2.imencode(ext, image)
    if not ok:
        raise ValueError(f'could not encode image for {path}')
    atomic_write_bytes(path, buf.tobytes())


def read_image(path: Union[str, os.PathLike]) -> np.ndarray:
    """Read an image as BGR ``uint8`` (grayscale, alpha and 16-bit images
    are converted); a missing, empty or unreadable file is an
    :class:`InputError` naming the file (cv2 alone returns ``None``
    silently)."""
    import cv2
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MissingInputError(path, 'image file not found')
    if os.path.getsize(path) == 0:
        raise InputError(path, 'empty image file (0 bytes)')
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise InputError(path, 'unreadable or truncated image')
    return image

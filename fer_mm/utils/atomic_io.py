# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Crash-safe file writes: a reader sees the old file or the new one, never
half of one.

The data goes to a hidden temporary file in the destination folder, is
flushed to disk (``fsync``), and is then renamed over the destination
(``os.replace`` is atomic on POSIX and Windows within one file system); the
folder is synced as well so that the rename itself survives a power loss.
Files are created with mode ``0o666`` minus the process umask, like a plain
``open(path, 'wb')``.
"""

import os
import os.path as osp
from typing import Union

#: Temporary files are ``.<name><TMP_SUFFIX><pid>`` next to the destination.
TMP_SUFFIX = '.tmp-'


def temp_path_for(path: str) -> str:
    """The temporary name :func:`atomic_write_bytes` writes ``path`` to."""
    folder, name = osp.split(osp.abspath(path))
    return osp.join(folder, f'.{name}{TMP_SUFFIX}{os.getpid()}')


def is_temp_path(path: str) -> bool:
    """Whether ``path`` is a temporary file left by an interrupted write."""
    name = osp.basename(path)
    return name.startswith('.') and TMP_SUFFIX in name


def fsync_dir(folder: str) -> None:
    """Flush a folder's entries (a rename) to disk where the OS allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover (Windows cannot open folders)
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover (some file systems refuse)
        pass
    finally:
        os.close(fd)


def write_fully(fd: int, data: bytes) -> None:
    """Write all of ``data`` to the file descriptor ``fd``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def atomic_write_bytes(path: Union[str, os.PathLike], data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash never leaves a partial file.

    Args:
        path (str | PathLike): Destination; its folder is created if missing.
            An existing file is replaced only once the new content is
            complete on disk.
        data (bytes): The content.
    """
    path = os.fspath(path)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = temp_path_for(path)
    if osp.lexists(tmp):  # left by an earlier process with the same pid
        os.unlink(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            write_fully(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        if osp.lexists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def atomic_write_text(
    path: Union[str, os.PathLike], text: str, encoding: str = 'utf-8'
) -> None:
    """:func:`atomic_write_bytes` for text."""
    atomic_write_bytes(path, text.encode(encoding))

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Write a file whole or not at all."""

import os
import os.path as osp
import tempfile
from typing import Any

import torch


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save`` to a temporary file beside ``path``, fsync, rename.

    A reader (or a crash) never sees a half-written ``path``; an existing
    file is replaced only by a complete one. The file gets the mode a plain
    ``open`` would give it (the process umask applies).
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix='.partial', dir=folder
    )
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""mmengine file backend whose writes are atomic (see :mod:`.atomic_io`)."""

from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from .atomic_io import atomic_write_bytes, atomic_write_text

#: The name under which the backend is registered in mmengine's file I/O:
#: ``backend_args=dict(backend=ATOMIC_LOCAL_BACKEND)``.
ATOMIC_LOCAL_BACKEND = 'fer_mm_atomic_local'


class AtomicLocalBackend(LocalBackend):
    """:class:`mmengine.fileio.LocalBackend` with crash-safe ``put``.

    ``put`` and ``put_text`` write to a temporary file in the same folder,
    fsync it and rename it over the destination, so a process killed during
    the write leaves the previous file (or none), never a truncated one.
    Everything else is mmengine's local backend.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(filepath, obj)

    def put_text(
        self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8'
    ) -> None:
        atomic_write_text(filepath, obj, encoding=encoding)


register_backend(ATOMIC_LOCAL_BACKEND, AtomicLocalBackend, force=True)

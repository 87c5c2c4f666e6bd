# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""``torch.save`` that writes a file whole or not at all."""

import io
from typing import Any

import torch

from .atomic_io import atomic_write_bytes


def torch_bytes(obj: Any) -> bytes:
    """What ``torch.save(obj, path)`` would write."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save`` through :func:`~fer_mm.utils.atomic_io.
    atomic_write_bytes`: a crash never leaves a partial ``path``."""
    atomic_write_bytes(path, torch_bytes(obj))

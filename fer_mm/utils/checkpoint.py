# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Weights-only checkpoint loading for mmengine checkpoints.

torch >= 2.6 loads checkpoints with ``weights_only=True``: the unpickler only
builds tensors, containers and an allow-list of globals, so a crafted file
cannot run code. An mmengine checkpoint (``epoch_N.pth``) also carries the
message hub (numpy arrays and :class:`~mmengine.logging.HistoryBuffer` objects
whose statistics methods are pickled through ``getattr``), which the default
allow-list refuses, so ``--resume`` fails.

fer_mm keeps weights-only loading on and widens the allow-list *only while an
mmengine checkpoint is loaded*, with exactly the globals such a file needs.
``getattr`` is not allowed as such: it is replaced by a version that can only
fetch a public statistics method of a ``HistoryBuffer``.

Importing fer_mm changes nothing process-wide. Weights-only loading becomes
mmengine's loader for local paths (what ``load_from``, ``resume``,
:func:`mmengine.runner.load_checkpoint` and ``mmpretrain.apis.init_model`` go
through) only when it is asked for:

- :func:`enable_weights_only_loading`, an explicit call (fer_mm's
  ``tools/train.py``, ``tools/test.py``, the inference APIs and the model
  converters make it);
- importing :mod:`fer_mm.utils.weights_only_loading`, which is what fer_mm's
  configs do through ``custom_imports`` (``configs/_base_/default_runtime.py``
  and the generative configs), so that mmpretrain's own ``tools/train.py``
  and ``init_model`` with a fer_mm config are protected as well.

:func:`disable_weights_only_loading` puts mmengine's own loader back.
"""

import errno
import os.path as osp
import pickle
from typing import Any, List, Optional

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs more than weights-only unpickling allows."""


class CorruptCheckpointError(ValueError):
    """A checkpoint file is empty, truncated or not a torch file."""


def _corrupt(filename: str, problem: str) -> CorruptCheckpointError:
    size = osp.getsize(filename)
    return CorruptCheckpointError(
        f'Cannot load checkpoint {filename} ({size} bytes): {problem}. The '
        'file is damaged or incomplete (for example, written by a run that '
        'was killed while saving it); use an earlier checkpoint.'
    )


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to HistoryBuffer statistics methods."""
    is_buffer = obj is HistoryBuffer or isinstance(obj, HistoryBuffer)
    if (
        not is_buffer
        or name.startswith('_')
        or not callable(getattr(HistoryBuffer, name, None))
    ):
        raise UnsafeCheckpointError(
            f'getattr({type(obj).__name__}, {name!r}) is not allowed in a '
            'weights-only checkpoint (only HistoryBuffer statistics methods '
            'are)'
        )
    return getattr(obj, name)


def _numpy_globals() -> List[Any]:
    multiarray = np.core.multiarray
    allowed = [
        np.ndarray,
        np.dtype,
        multiarray._reconstruct,
        multiarray.scalar,
    ]
    # numpy >= 1.25 pickles dtypes through their DType classes.
    for code in '?bBhHiIlLqQefdgFDG':
        allowed.append(type(np.dtype(code)))
    return allowed


def checkpoint_safe_globals() -> List[Any]:
    """Globals an mmengine checkpoint needs beyond torch's allow-list."""
    return _numpy_globals() + [
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
    ]


def load_checkpoint_file(
    filename: str, map_location: Optional[Any] = None
) -> Any:
    """Load a local checkpoint with weights-only unpickling.

    Args:
        filename (str): Path of the checkpoint.
        map_location (optional): Same as :func:`torch.load`.

    Returns:
        The unpickled checkpoint (usually a dict).

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: The file needs globals outside the allow-list
            (it would run or build arbitrary objects when unpickled).
        CorruptCheckpointError: The file is empty, truncated or not a
            checkpoint at all.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        from .pretrained_parts import missing_part_message

        raise FileNotFoundError(
            missing_part_message(filename)
            or f'checkpoint not found: {filename}'
        )
    if osp.getsize(filename) == 0:
        raise _corrupt(filename, 'the file is empty')
    with torch.serialization.safe_globals(checkpoint_safe_globals()):
        try:
            return torch.load(
                filename, map_location=map_location, weights_only=True
            )
        except EOFError:
            raise _corrupt(filename, 'it ends too early') from None
        except (RuntimeError, OSError) as err:
            if isinstance(err, FileNotFoundError) or not _is_read_error(err):
                raise
            first = str(err).strip().splitlines()[0] if str(err) else ''
            raise _corrupt(
                filename, f'it is not a complete torch checkpoint ({first})'
            ) from None
        except pickle.UnpicklingError as err:
            lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
            reason = next(
                (
                    ln
                    for ln in lines
                    if 'GLOBAL' in ln
                    or 'not allowed' in ln
                    or 'Unsupported' in ln
                ),
                lines[-1] if lines else 'unknown reason',
            )
            raise UnsafeCheckpointError(
                f'Refusing to load checkpoint {filename}: it is not a plain '
                f'weights file: {reason}. fer_mm loads checkpoints '
                'weights-only so that a crafted file cannot run code; if you '
                'trust this file, re-save its state_dict with plain tensors.'
            ) from None


def _is_read_error(err: Exception) -> bool:
    """Whether ``err`` is torch failing to read the file's container."""
    if isinstance(err, OSError):
        return err.errno in (errno.EINVAL, errno.EIO) or err.errno is None
    text = str(err)
    return 'PytorchStreamReader' in text or 'zip archive' in text


def load_from_local_weights_only(
    filename: str, map_location: Optional[Any] = None
) -> Any:
    """mmengine loader for local paths: :func:`load_checkpoint_file`.

    mmengine logs the loader's name after ``load_from_`` ("Loads checkpoint
    by local_weights_only backend"), hence the name.
    """
    return load_checkpoint_file(filename, map_location=map_location)


# mmengine's loader for local paths, as mmengine registered it (before
# anything replaced it), so that it can be put back.
_MMENGINE_LOCAL_LOADER = CheckpointLoader._schemes.get('')
if _MMENGINE_LOCAL_LOADER is load_from_local_weights_only:  # pragma: no cover
    _MMENGINE_LOCAL_LOADER = None


def enable_weights_only_loading() -> None:
    """Make weights-only loading mmengine's loader for local checkpoints.

    A process-wide change, and the only one fer_mm makes: after this call
    every local checkpoint that mmengine loads (``load_from``, ``resume``,
    :func:`mmengine.runner.load_checkpoint`, ``mmpretrain.apis.init_model``)
    goes through :func:`load_checkpoint_file`. Idempotent.
    """
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_weights_only, force=True
    )


def disable_weights_only_loading() -> None:
    """Put back the local loader mmengine had before it was enabled."""
    if _MMENGINE_LOCAL_LOADER is None:  # pragma: no cover
        raise RuntimeError(
            'mmengine had no loader for local paths when fer_mm.utils.'
            'checkpoint was imported; nothing to put back'
        )
    CheckpointLoader.register_scheme(
        prefixes='', loader=_MMENGINE_LOCAL_LOADER, force=True
    )


def weights_only_loading_enabled() -> bool:
    """Whether mmengine loads local checkpoints weights-only through fer_mm."""
    return CheckpointLoader._schemes.get('') is load_from_local_weights_only


def register_checkpoint_loader() -> None:
    """Former name of :func:`enable_weights_only_loading`."""
    enable_weights_only_loading()

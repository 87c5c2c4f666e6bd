# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Test-only fault injection: SIGKILL the training process at a chosen point.

``FaultInjectionHook`` reads ``FER_MM_TEST_FAULT`` (``<point>:<n>``) and
kills its own process, as ``kill -9`` would, at:

- ``iter:<n>``: right after training iteration n (counted from 1);
- ``mid_write:<n>``: halfway through writing the bytes of the n-th
  checkpoint file;
- ``before_last:<n>``: after the n-th checkpoint file is complete, before
  ``last_checkpoint`` names it;
- ``before_remove:<n>``: after ``last_checkpoint`` names the n-th
  checkpoint, before the outdated one is removed.

Without the variable the hook does nothing. The write-time points patch
fer_mm's atomic writer; on code without it (mmengine's CheckpointHook),
``mid_write`` patches mmengine's local file backend instead, which is how
the data-loss failure was shown before the fix.
"""

import os
import signal

from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

CHECKPOINT_MIN_BYTES = 4096  # last_checkpoint is a short path, not this


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class FaultInjectionHook(Hook):
    priority = 'LOWEST'

    def __init__(self):
        spec = os.environ.get('FER_MM_TEST_FAULT', '')
        self.point, _, n = spec.partition(':')
        self.n = int(n) if n else 0

    def before_train(self, runner):
        if self.point == 'mid_write':
            self._patch_write()
        elif self.point in ('before_last', 'before_remove'):
            from fer_mm.engine.hooks import AtomicCheckpointHook

            name = (
                '_publish_last_checkpoint'
                if self.point == 'before_last'
                else '_remove_outdated'
            )
            self._kill_on_nth_call(AtomicCheckpointHook, name)

    def after_train_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ):
        if self.point == 'iter' and runner.iter == self.n:
            _die()

    def _kill_on_nth_call(self, owner, name):
        real = getattr(owner, name)
        calls = []

        def wrapper(hook, runner, *args, **kwargs):
            # (_remove_outdated with nothing to remove does not count)
            if not args or args[0]:
                calls.append(1)
                if len(calls) == self.n:
                    _die()
            return real(hook, runner, *args, **kwargs)

        setattr(owner, name, wrapper)

    def _patch_write(self):
        calls = []
        try:
            from fer_mm.utils import atomic_io
        except ImportError:  # before the fix: mmengine writes in place
            from mmengine.fileio import LocalBackend

            real_put = LocalBackend.put

            def put(backend, obj, filepath):
                if len(obj) >= CHECKPOINT_MIN_BYTES:
                    calls.append(1)
                    if len(calls) == self.n:
                        with open(filepath, 'wb') as f:
                            f.write(obj[: len(obj) // 2])
                        _die()
                return real_put(backend, obj, filepath)

            LocalBackend.put = put
            return
        real_write = atomic_io.write_fully

        def write_fully(fd, data):
            if len(data) >= CHECKPOINT_MIN_BYTES:
                calls.append(1)
                if len(calls) == self.n:
                    real_write(fd, data[: len(data) // 2])
                    os.fsync(fd)
                    _die()
            return real_write(fd, data)

        atomic_io.write_fully = write_fully

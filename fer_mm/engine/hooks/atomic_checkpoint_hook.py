# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import glob
import os
import os.path as osp
from typing import List

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook
from mmpretrain.registry import HOOKS

from ...utils.atomic_backend import ATOMIC_LOCAL_BACKEND
from ...utils.atomic_io import atomic_write_text, is_temp_path


class _DeferredRemoval:
    """A file backend whose ``remove`` / ``rmtree`` wait for :meth:`flush`."""

    def __init__(self, backend):
        self._backend = backend
        self.pending: List[tuple] = []

    def remove(self, path) -> None:
        self.pending.append(('remove', path))

    def rmtree(self, path) -> None:
        self.pending.append(('rmtree', path))

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def flush(self) -> List[str]:
        done = []
        for op, path in self.pending:
            getattr(self._backend, op)(path)
            done.append(path)
        self.pending = []
        return done


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's :class:`~mmengine.hooks.CheckpointHook` that cannot lose
    the last good checkpoint.

    mmengine removes the oldest checkpoint (``max_keep_ckpts``) and the
    previous best one (``save_best``) *before* writing the new one, writes
    in place, and rewrites ``last_checkpoint`` in place; a process killed in
    between leaves a truncated file and nothing to resume from. This hook
    keeps every option of mmengine's (interval, by_epoch, max_keep_ckpts,
    save_best, out_dir, backend_args, ...) and changes the order for local
    folders:

    1. the checkpoint is written to a hidden temporary file in ``out_dir``,
       fsynced, and renamed to ``epoch_N.pth`` / ``iter_N.pth``;
    2. ``last_checkpoint`` is then replaced the same way (it always names a
       complete file);
    3. only then are outdated checkpoints removed.

    Temporary files left by a killed run are removed when training starts,
    and so are outdated checkpoints whose removal a kill interrupted (each
    checkpoint records which ones it makes outdated).
    Remote ``out_dir`` s (a non-local file backend) are written by that
    backend as mmengine does.
    """

    OUTDATED_KEY = 'fer_mm_outdated_ckpt_ids'

    def before_train(self, runner) -> None:
        local = self.file_client_args is None and isinstance(
            get_file_backend(
                self.out_dir or runner.work_dir,
                backend_args=self.backend_args,
            ),
            LocalBackend,
        )
        if local:
            self.backend_args = dict(
                self.backend_args or {}, backend=ATOMIC_LOCAL_BACKEND
            )
        super().before_train(runner)
        self._atomic = local
        if not is_main_process():
            return
        if local:
            self._remove_stale_temp_files(runner)
        # Resumed from a checkpoint whose outdated predecessors were not
        # removed yet (the run was killed in between): remove them now.
        info = runner.message_hub.runtime_info
        outdated = [
            s
            for s in info.get(self.OUTDATED_KEY, []) or []
            if s not in self.keep_ckpt_ids
        ]
        self._remove_outdated(runner, outdated)

    def _remove_stale_temp_files(self, runner) -> None:
        for folder in {self.out_dir, runner.work_dir}:
            for path in glob.glob(osp.join(glob.escape(folder), '.*')):
                if is_temp_path(path) and osp.isfile(path):
                    os.remove(path)
                    runner.logger.warning(
                        f'Removed {path}: an incomplete checkpoint write '
                        'left by an interrupted run.'
                    )

    def _write_checkpoint(self, runner, filename: str, meta: dict) -> None:
        """Step 1: write ``filename`` in ``out_dir`` (atomically if local)."""
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args,
        )

    def _publish_last_checkpoint(self, runner) -> None:
        """Step 2: point ``work_dir/last_checkpoint`` at the new file."""
        save_file = osp.join(runner.work_dir, 'last_checkpoint')
        if getattr(self, '_atomic', False):
            atomic_write_text(save_file, self.last_ckpt)
        else:
            with open(save_file, 'w') as f:
                f.write(self.last_ckpt)

    def _remove_outdated(self, runner, steps: List[int]) -> None:
        """Step 3: remove the checkpoints of ``steps``."""
        for step in steps:
            path = self.file_backend.join_path(
                self.out_dir, self.filename_tmpl.format(step)
            )
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed checkpoints
                self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        outdated = []
        if self.max_keep_ckpts > 0 and not (
            self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step
        ):
            # The same bookkeeping as mmengine's; only the removal waits.
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info(
                'keep_ckpt_ids', list(self.keep_ckpt_ids)
            )
        # Recorded in the checkpoint itself, so that a run killed before the
        # removal finishes it when resumed from this checkpoint.
        runner.message_hub.update_info(self.OUTDATED_KEY, outdated)
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(
            self.out_dir, ckpt_filename
        )
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._write_checkpoint(runner, ckpt_filename, meta)
        if not is_main_process():
            return
        self._publish_last_checkpoint(runner)
        self._remove_outdated(runner, outdated)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        # mmengine removes the previous best checkpoint before saving the new
        # one; let the removal wait until the new one is on disk, and keep
        # the previous best (file and record) if the save fails.
        backend = self.file_backend
        info = runner.message_hub.runtime_info
        saved = dict(
            path=getattr(self, 'best_ckpt_path', None),
            paths=dict(getattr(self, 'best_ckpt_path_dict', {}) or {}),
            info={k: v for k, v in info.items() if k.startswith('best_')},
        )
        self.file_backend = _DeferredRemoval(backend)
        try:
            super()._save_best_checkpoint(runner, metrics)
        except BaseException:
            self.best_ckpt_path = saved['path']
            if saved['paths']:
                self.best_ckpt_path_dict = saved['paths']
            for key in [k for k in info if k.startswith('best_')]:
                if key not in saved['info']:
                    info.pop(key)
            for key, value in saved['info'].items():
                runner.message_hub.update_info(key, value)
            raise
        else:
            self.file_backend.flush()
        finally:
            self.file_backend = backend

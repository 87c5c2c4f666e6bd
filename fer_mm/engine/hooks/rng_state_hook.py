# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop
from mmpretrain.registry import HOOKS
from torch.utils.data import BatchSampler, Sampler

from ...utils.batch_seeding import install_batch_seeding


class _SkipFirst(Sampler):
    """Iterate ``sampler`` without its first ``num`` indices."""

    def __init__(self, sampler, num: int):
        self.sampler, self.num = sampler, num

    def __iter__(self):
        it = iter(self.sampler)
        for _ in range(self.num):
            next(it, None)
        yield from it

    def __len__(self) -> int:
        return max(len(self.sampler) - self.num, 0)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make a resumed run draw exactly the random numbers of an
    uninterrupted one.

    mmengine's ``resume`` restores weights, optimizer, schedulers and the
    sampler epoch, but not the state of Python's, NumPy's and torch's global
    generators, nor the data-loader workers' generators, and it replays an
    epoch that a checkpoint interrupted. This hook:

    - saves the global generators' states in every checkpoint and restores
      them on resume (batch augments such as Mixup, dropout);
    - seeds the augmentations of every training batch from the run's seed,
      the epoch and the batch's sample indices
      (:func:`fer_mm.utils.batch_seeding.install_batch_seeding`), in
      workers (persistent or not) and in the main process alike (epoch-based
      loops; an iteration-based loop has one endless iterator, which
      mmengine replays on resume);
    - resumes a checkpoint taken in the middle of an epoch (an iteration
      checkpoint of an epoch-based loop) at the next batch: the batches the
      checkpoint had consumed are skipped at the sampler, not loaded again.

    Together, a run resumed from any checkpoint ends with the same weights,
    bit for bit, as the uninterrupted run, for any ``num_workers``.
    """

    priority = 'VERY_LOW'
    KEY = 'fer_mm_rng_state'

    def before_train(self, runner) -> None:
        self._fetcher = self._skipping = None
        # Iteration-based loops draw from one endless iterator, which
        # mmengine replays on resume; epochs are what needs re-seeding.
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            self._fetcher = install_batch_seeding(
                runner.train_dataloader, runner.seed
            )

    def before_train_epoch(self, runner) -> None:
        fetcher = getattr(self, '_fetcher', None)
        if fetcher is not None:
            fetcher.set_epoch(runner.epoch)
        loop = runner.train_loop
        if not isinstance(loop, EpochBasedTrainLoop):
            return
        per_epoch = len(loop.dataloader)
        done = runner.iter - runner.epoch * per_epoch
        if 0 < done < per_epoch:
            self._skip_batches(runner, loop.dataloader, done)

    def _skip_batches(self, runner, dataloader, done: int) -> None:
        batch_sampler = dataloader.batch_sampler
        if type(batch_sampler) is not BatchSampler:
            runner.logger.warning(
                f'RNGStateHook: resuming after {done} batches of epoch '
                f'{runner.epoch + 1}, but the batch sampler '
                f'{type(batch_sampler).__name__} cannot skip them: the epoch '
                'is trained from its start again (not bit-exact).'
            )
            return
        self._skipping = (batch_sampler, batch_sampler.sampler)
        batch_sampler.sampler = _SkipFirst(
            batch_sampler.sampler, done * batch_sampler.batch_size
        )
        runner.logger.info(
            f'Resuming in the middle of epoch {runner.epoch + 1}: skipping '
            f'the {done} batches the checkpoint had trained on.'
        )

    def after_train_epoch(self, runner) -> None:
        if getattr(self, '_skipping', None):
            batch_sampler, sampler = self._skipping
            batch_sampler.sampler = sampler
            self._skipping = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        np_state = np.random.get_state()
        checkpoint[self.KEY] = dict(
            python=random.getstate(),
            numpy=dict(
                kind=np_state[0],
                keys=torch.from_numpy(np_state[1].astype(np.int64)),
                pos=int(np_state[2]),
                has_gauss=int(np_state[3]),
                cached_gaussian=float(np_state[4]),
            ),
            torch=torch.get_rng_state(),
            cuda=torch.cuda.get_rng_state_all()
            if torch.cuda.is_available()
            else [],
        )

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(self.KEY)
        if state is None:
            runner.logger.warning(
                'RNGStateHook: the checkpoint holds no random-generator state '
                '(saved without this hook); random draws after resuming will '
                'differ from an uninterrupted run.'
            )
            return
        version, internal, gauss = state['python']
        random.setstate((version, tuple(internal), gauss))
        np_state = state['numpy']
        np.random.set_state(
            (
                np_state['kind'],
                np_state['keys'].numpy().astype(np.uint32),
                np_state['pos'],
                np_state['has_gauss'],
                np_state['cached_gaussian'],
            )
        )
        torch.set_rng_state(state['torch'])
        if state['cuda'] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the random generators' states in checkpoints and restore them.

    mmengine's ``resume`` restores weights, optimizer, schedulers and the
    sampler epoch, but not the state of Python's, NumPy's and torch's global
    generators. Everything the main process draws after a resume (random
    augmentations with ``num_workers=0``, batch augments such as Mixup,
    dropout) then differs from an uninterrupted run. With this hook a run
    resumed from epoch N continues with exactly the random numbers the
    uninterrupted run would have drawn.

    Dataloader worker processes seed themselves from the run's seed and are
    not covered (they restart with the same seeds in both runs when
    ``persistent_workers=False``).
    """

    priority = 'VERY_LOW'
    KEY = 'fer_mm_rng_state'

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

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import sys

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """A progress bar with ETA over the whole training run (rank 0 only).

    mmengine's logger prints a line every ``interval`` iterations; on a slow
    CPU the first line can take minutes, which looks like a hang. This hook
    draws one tqdm bar over all training iterations (``max_iters``), with the
    epoch, the latest loss and the time left, and a second one over each
    validation / test loop.

    Args:
        file (str): ``'stderr'`` or ``'stdout'``. Defaults to 'stderr'.
        mininterval (float): Seconds between redraws. Defaults to 1.0.
    """

    priority = 'LOW'

    def __init__(self, file: str = 'stderr', mininterval: float = 1.0):
        if file not in ('stderr', 'stdout'):
            raise ValueError(
                f"ProgressBarHook: file must be 'stderr' or 'stdout', got "
                f'{file!r}'
            )
        self.file = file
        self.mininterval = mininterval
        self._bar = None
        self._eval_bar = None

    def _new_bar(self, total: int, desc: str, initial: int = 0):
        from tqdm import tqdm

        return tqdm(
            total=total,
            initial=initial,
            desc=desc,
            unit='it',
            file=getattr(sys, self.file),
            mininterval=self.mininterval,
            dynamic_ncols=True,
            leave=True,
        )

    def before_train(self, runner) -> None:
        if is_main_process():
            self._bar = self._new_bar(
                runner.max_iters, 'train', initial=runner.iter
            )

    def after_train_iter(
        self, runner, batch_idx: int, data_batch=None, outputs=None
    ) -> None:
        if self._bar is None:
            return
        postfix = dict(epoch=f'{runner.epoch + 1}/{runner.max_epochs}')
        loss = outputs.get('loss') if isinstance(outputs, dict) else None
        if isinstance(loss, torch.Tensor):
            loss = loss.detach().float().mean().item()
        if loss is not None:
            postfix['loss'] = f'{float(loss):.3f}'
        self._bar.set_postfix(postfix, refresh=False)
        self._bar.update(1)

    def after_train(self, runner) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _before_eval(self, runner, loop_name: str) -> None:
        if not is_main_process():
            return
        loop = getattr(runner, f'{loop_name}_loop')
        self._eval_bar = self._new_bar(len(loop.dataloader), loop_name)

    def _after_eval_iter(self) -> None:
        if self._eval_bar is not None:
            self._eval_bar.update(1)

    def _after_eval(self) -> None:
        if self._eval_bar is not None:
            self._eval_bar.close()
            self._eval_bar = None

    def before_val(self, runner) -> None:
        self._before_eval(runner, 'val')

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._after_eval_iter()

    def after_val(self, runner) -> None:
        self._after_eval()

    def before_test(self, runner) -> None:
        self._before_eval(runner, 'test')

    def after_test_iter(
        self, runner, batch_idx, data_batch=None, outputs=None
    ):
        self._after_eval_iter()

    def after_test(self, runner) -> None:
        self._after_eval()

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from types import SimpleNamespace

import pytest
import torch

from fer_mm.engine import ProgressBarHook


def fake_runner(max_iters, start_iter=0, max_epochs=2):
    return SimpleNamespace(
        max_iters=max_iters, iter=start_iter, epoch=0, max_epochs=max_epochs
    )


def test_train_bar_counts_every_iteration_and_shows_the_loss(capsys):
    hook = ProgressBarHook(mininterval=0)
    runner = fake_runner(max_iters=5, start_iter=1)  # e.g. resumed at iter 1
    hook.before_train(runner)
    w = torch.ones(1, requires_grad=True)
    for i in range(4):
        runner.epoch = i // 2
        hook.after_train_iter(runner, i, outputs=dict(loss=w * (i + 0.5)))
    hook.after_train(runner)
    err = capsys.readouterr().err
    last = err.replace('\r', '\n').strip().splitlines()[-1]
    assert '5/5' in last  # resumed at 1, four more iterations
    assert 'epoch=2/2' in last
    assert 'loss=3.500' in last  # the last loss, detached
    assert hook._bar is None


def test_eval_bar_uses_the_loop_length(capsys):
    hook = ProgressBarHook(mininterval=0, file='stdout')
    runner = SimpleNamespace(test_loop=SimpleNamespace(dataloader=[0] * 3))
    hook.before_test(runner)
    for i in range(3):
        hook.after_test_iter(runner, i)
    hook.after_test(runner)
    out = capsys.readouterr().out
    assert '3/3' in out.replace('\r', '\n').strip().splitlines()[-1]


def test_bad_file_argument():
    with pytest.raises(ValueError, match="file must be 'stderr' or 'stdout'"):
        ProgressBarHook(file='log.txt')

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""AtomicCheckpointHook: a crash while saving never loses the last good
checkpoint, and mmengine's options keep working."""

import os
import os.path as osp
from unittest import mock

import pytest
import torch

import fer_mm  # noqa: F401
from fer_mm.utils import load_checkpoint_file
from tests.helpers.toy_runner import toy_runner


class Crash(Exception):
    pass


def _crash_on_save(n):
    """A ``torch.save`` that fails (a simulated crash) on its n-th call."""
    real = torch.save
    calls = []

    def save(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise Crash(f'crash while saving checkpoint {n}')
        return real(obj, f, *args, **kwargs)

    return save


def test_crash_while_saving_keeps_last_good_checkpoint(tmp_path):
    # (mmengine's CheckpointHook fails this test: epoch_1.pth is gone.)
    # max_keep_ckpts=1 as in the demo config: mmengine deletes epoch_1.pth
    # before epoch_2.pth is written.
    runner = toy_runner(
        tmp_path,
        max_epochs=3,
        checkpoint=dict(
            type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1
        ),
    )
    with mock.patch('torch.save', _crash_on_save(2)):
        with pytest.raises(Crash):
            runner.train()
    names = sorted(os.listdir(tmp_path))
    assert 'epoch_1.pth' in names, names
    assert not [n for n in names if n.startswith('epoch_2')], names
    with open(tmp_path / 'last_checkpoint') as f:
        assert f.read() == osp.join(str(tmp_path), 'epoch_1.pth')
    ckpt = load_checkpoint_file(str(tmp_path / 'epoch_1.pth'))
    assert ckpt['meta']['epoch'] == 1


def test_max_keep_ckpts_and_order(tmp_path):
    runner = toy_runner(
        tmp_path,
        max_epochs=3,
        checkpoint=dict(
            type='AtomicCheckpointHook', interval=1, max_keep_ckpts=2
        ),
    )
    events = []
    real_remove = os.remove

    def remove(path, *a, **k):
        events.append(('remove', osp.basename(path)))
        return real_remove(path, *a, **k)

    real_replace = os.replace

    def replace(src, dst, *a, **k):
        events.append(('rename', osp.basename(dst)))
        return real_replace(src, dst, *a, **k)

    with mock.patch('os.remove', remove), mock.patch('os.replace', replace):
        runner.train()
    pths = sorted(n for n in os.listdir(tmp_path) if n.endswith('.pth'))
    assert pths == ['epoch_2.pth', 'epoch_3.pth']
    # epoch_1 goes only once epoch_3 and last_checkpoint are in place.
    assert events[-3:] == [
        ('rename', 'epoch_3.pth'),
        ('rename', 'last_checkpoint'),
        ('remove', 'epoch_1.pth'),
    ]
    assert not [n for n in os.listdir(tmp_path) if '.tmp-' in n]


def test_out_dir_option_and_stale_temp_removed(tmp_path):
    out = tmp_path / 'out'
    work = tmp_path / 'work'
    os.makedirs(out / 'work')
    stale = out / 'work' / '.epoch_1.pth.tmp-12345'
    stale.write_bytes(b'half a checkpoint')
    runner = toy_runner(
        work,
        max_epochs=1,
        checkpoint=dict(
            type='AtomicCheckpointHook', interval=1, out_dir=str(out)
        ),
    )
    runner.train()
    # mmengine's rule: out_dir/<basename of work_dir>.
    assert sorted(os.listdir(out / 'work')) == ['epoch_1.pth']
    with open(work / 'last_checkpoint') as f:
        assert f.read() == osp.join(str(out), 'work', 'epoch_1.pth')


def test_best_checkpoint_replaced_only_after_new_one_written(tmp_path):
    from fer_mm.engine.hooks import AtomicCheckpointHook

    runner = toy_runner(
        tmp_path,
        max_epochs=1,
        checkpoint=dict(
            type='AtomicCheckpointHook', interval=1, save_best='acc'
        ),
    )
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, AtomicCheckpointHook))
    runner.train_loop._epoch = 1
    hook._save_best_checkpoint(runner, {'acc': 0.5})
    first = hook.best_ckpt_path
    assert osp.basename(first) == 'best_acc_epoch_1.pth'
    runner.train_loop._epoch = 2
    with mock.patch('torch.save', _crash_on_save(1)):
        with pytest.raises(Crash):
            hook._save_best_checkpoint(runner, {'acc': 0.9})
    # The crash left the previous best in place.
    assert osp.isfile(first)
    runner.train_loop._epoch = 3
    hook._save_best_checkpoint(runner, {'acc': 0.95})
    assert not osp.exists(first)
    assert osp.isfile(tmp_path / 'best_acc_epoch_3.pth')


def test_every_config_saves_with_the_atomic_hook():
    import json

    from tests.test_configs_effective import SNAPSHOT

    with open(SNAPSHOT) as f:
        snapshot = json.load(f)
    types = {
        path: cfg['default_hooks']['checkpoint']['type']
        for path, cfg in snapshot.items()
    }
    assert len(types) > 30
    assert {t for t in types.values()} == {'AtomicCheckpointHook'}, types


def test_train_tool_swaps_mmengine_checkpoint_hook():
    from mmengine.config import Config

    from fer_mm.engine.runner_setup import use_atomic_checkpoint_hook

    cfg = Config(
        dict(
            default_hooks=dict(
                checkpoint=dict(
                    type='CheckpointHook', interval=3, max_keep_ckpts=1
                )
            )
        )
    )
    use_atomic_checkpoint_hook(cfg)
    assert cfg.default_hooks.checkpoint == dict(
        type='AtomicCheckpointHook',
        _scope_='mmpretrain',
        interval=3,
        max_keep_ckpts=1,
    )


def test_resume_without_a_path_explains_the_work_dir(tmp_path):
    from unittest import mock

    from mmengine.config import Config

    from fer_mm.engine import runner_setup

    cfg = Config(dict(resume=True, load_from=None, work_dir=str(tmp_path)))
    with mock.patch.object(runner_setup, 'print_log') as log:
        runner_setup.check_resume(cfg)  # no last_checkpoint: a log line
    (msg,), _ = log.call_args
    assert f'no {tmp_path}/last_checkpoint' in msg and 'from scratch' in msg

    marker = tmp_path / 'last_checkpoint'
    marker.write_text('')
    with pytest.raises(ValueError, match=r'last_checkpoint is empty'):
        runner_setup.check_resume(cfg)
    marker.write_text(str(tmp_path / 'epoch_7.pth'))
    with pytest.raises(FileNotFoundError, match=r'names .*epoch_7.pth'):
        runner_setup.check_resume(cfg)
    (tmp_path / 'epoch_7.pth').write_bytes(b'x')
    runner_setup.check_resume(cfg)  # a file to resume from: no complaint

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""SIGKILL tools/train.py at seeded random moments, including inside a
checkpoint write, resume each time, and get the uninterrupted run's final
weights bit for bit (one data-loader worker, persistent), for the demo config
and a DAN config, shrunk to a tiny model and data set."""

import os
import os.path as osp
import random
import signal
import subprocess
import sys

import pytest
import torch

from fer_mm.utils import load_checkpoint_file
from tests.helpers.tiny_config import tool_env

CONFIGS = {
    'demo': 'configs/resnet/resnet18_1xb64-6e_synthetic-rafdb-48px.py',
    'dan': 'configs/dan/dan_resnet18_1xb64-8e_synthetic-rafdb.py',
}
# 245 training images, batch 16: 16 iterations per epoch, 3 epochs.
ITERS_PER_EPOCH, EPOCHS = 16, 3
NECK = {'demo': '', 'dan': 'neck=dict(in_channels=64), '}

TEMPLATE = """
_base_ = ['{repo}/{config}']
custom_imports = dict(
    imports=['fer_mm', 'fer_mm.utils.weights_only_loading',
             'tests.helpers.fault_hooks'],
    allow_failed_imports=False)
model = dict(backbone=dict(stem_channels=8, base_channels=8), {neck}
             head=dict(in_channels=64))
train_dataloader = dict(
    batch_size=16, num_workers=1, persistent_workers=True,
    dataset=dict(data_root='{data}'))
val_dataloader = dict(dataset=dict(data_root='{data}'))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={epochs}, val_interval=100)
default_hooks = dict(logger=dict(interval=4), checkpoint=dict({checkpoint}))
custom_hooks = [dict(type='RNGStateHook'), dict(type='FaultInjectionHook')]
"""


def write_config(tmp_path, name, repo, data, checkpoint='interval=1'):
    path = tmp_path / f'{name}_{abs(hash(checkpoint)) % 1000}.py'
    path.write_text(
        TEMPLATE.format(
            repo=repo,
            config=CONFIGS[name],
            neck=NECK[name],
            data=data,
            epochs=EPOCHS,
            checkpoint=checkpoint,
        )
    )
    return str(path)


def train(repo, cfg, work, fault=None, resume=False, kill_after_s=None):
    """Run tools/train.py; return its exit code (-9: killed)."""
    env = tool_env(repo)
    env.pop('FER_MM_TEST_FAULT', None)
    if fault:
        env['FER_MM_TEST_FAULT'] = fault
    cmd = [
        sys.executable,
        'tools/train.py',
        cfg,
        '--work-dir',
        work,
        '--no-validate',
    ]
    if resume:
        cmd.append('--resume')
    log = open(osp.join(osp.dirname(work), 'train_output.log'), 'a')
    log.write(f'\n### {" ".join(cmd)} fault={fault} kill={kill_after_s}\n')
    log.flush()
    proc = subprocess.Popen(
        cmd,
        cwd=repo,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        if kill_after_s is not None:
            try:
                proc.wait(timeout=kill_after_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the worker too
        return proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def final_weights(work):
    with open(osp.join(work, 'last_checkpoint')) as f:
        ckpt = load_checkpoint_file(f.read())
    assert ckpt['meta']['iter'] == ITERS_PER_EPOCH * EPOCHS
    return ckpt['state_dict']


def assert_bit_exact(ref, got):
    assert ref.keys() == got.keys()
    diff = max(
        (ref[k].double() - got[k].double()).abs().max().item()
        for k in ref
        if ref[k].is_floating_point()
    )
    unequal = [k for k in ref if not torch.equal(ref[k], got[k])]
    assert not unequal, f'max |weight diff| {diff}; {unequal[:5]}'


def kill_chain(repo, cfg, work, rng, faults, timed=False):
    """Start fresh, then resume after every kill until the run completes."""
    rcs = []
    for i, fault in enumerate(faults):
        rcs.append(train(repo, cfg, work, fault=fault, resume=i > 0))
    if timed:  # a kill from outside at a seeded moment, wherever it lands
        rcs.append(
            train(
                repo,
                cfg,
                work,
                resume=True,
                kill_after_s=rng.uniform(4.0, 12.0),
            )
        )
    rcs.append(train(repo, cfg, work, resume=True))
    return rcs


@pytest.mark.slow
@pytest.mark.parametrize('name', ['demo', 'dan'])
def test_sigkill_and_resume_is_bit_exact(
    name, synthetic_rafdb, repo_root, tmp_path
):
    rng = random.Random(f'issue-23-{name}')
    cfg = write_config(tmp_path, name, repo_root, synthetic_rafdb)
    ref = str(tmp_path / 'ref')
    assert train(repo_root, cfg, ref) == 0
    # (seeded) iteration in epoch 2, then the checkpoint-write windows of
    # the next save: half-written file, complete file not yet named in
    # last_checkpoint, named but the outdated one not yet removed.
    k = rng.randint(ITERS_PER_EPOCH + 1, 2 * ITERS_PER_EPOCH - 1)
    faults = [f'iter:{k}', 'mid_write:1']
    if name == 'demo':
        faults += ['before_last:1', 'before_remove:1']
    work = str(tmp_path / 'killed')
    rcs = kill_chain(repo_root, cfg, work, rng, faults, timed=name == 'demo')
    assert rcs[: len(faults)] == [-signal.SIGKILL] * len(faults), rcs
    assert rcs[-1] == 0, rcs
    assert_bit_exact(final_weights(ref), final_weights(work))
    # max_keep_ckpts=1 (the demo's): one checkpoint and no temporary file.
    left = sorted(n for n in os.listdir(work) if 'pth' in n)
    assert left == [f'epoch_{EPOCHS}.pth'], left


@pytest.mark.slow
def test_mid_epoch_resume_skips_consumed_batches(
    synthetic_rafdb, repo_root, tmp_path
):
    ref_cfg = write_config(tmp_path, 'demo', repo_root, synthetic_rafdb)
    ref = str(tmp_path / 'ref')
    assert train(repo_root, ref_cfg, ref) == 0
    # Iteration checkpoints every 5 iterations in the epoch-based loop: a
    # kill at iteration 23 resumes from iter_20, 4 batches into epoch 2.
    cfg = write_config(
        tmp_path,
        'demo',
        repo_root,
        synthetic_rafdb,
        checkpoint='by_epoch=False, interval=5',
    )
    work = str(tmp_path / 'mid')
    assert train(repo_root, cfg, work, fault='iter:23') == -signal.SIGKILL
    assert train(repo_root, cfg, work, resume=True) == 0
    log = open(tmp_path / 'train_output.log').read()
    assert 'skipping the 4 batches' in log
    # 48 iterations in all, not 20 + a replayed epoch 2 + epoch 3.
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read().endswith('iter_48.pth')
    assert_bit_exact(final_weights(ref), final_weights(work))

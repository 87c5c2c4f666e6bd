# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The stock command lines: train, resume, test, and 2-process DDP on CPU."""

import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch

from fer_mm.utils import load_checkpoint_file
from tests.helpers.tiny_config import tool_env, write_tiny_config


def run(cmd, repo, timeout=900, returncode=0):
    proc = subprocess.run(
        cmd,
        cwd=repo,
        env=tool_env(repo),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == returncode, (
        f'{" ".join(cmd)} failed:\n{proc.stdout[-3000:]}\n'
        f'{proc.stderr[-6000:]}'
    )
    return proc


def weights(path):
    return load_checkpoint_file(path)['state_dict']


@pytest.mark.slow
def test_resume_equals_uninterrupted(synthetic_rafdb, repo_root, tmp_path):
    cfg2 = write_tiny_config(
        str(tmp_path / 'tiny2.py'), repo_root, synthetic_rafdb, epochs=2
    )
    # The same 2-epoch config, but the process dies after epoch 1.
    crash = write_tiny_config(
        str(tmp_path / 'crash.py'),
        repo_root,
        synthetic_rafdb,
        epochs=2,
        crash_after=1,
    )
    train = [sys.executable, 'tools/train.py']
    full, part = str(tmp_path / 'full'), str(tmp_path / 'part')
    run(train + [cfg2, '--work-dir', full], repo_root)
    run(train + [crash, '--work-dir', part], repo_root, returncode=3)
    assert osp.isfile(osp.join(part, 'epoch_1.pth'))
    assert not osp.exists(osp.join(part, 'epoch_2.pth'))
    # Resume (auto: latest checkpoint of the work dir) up to epoch 2.
    out = run(train + [cfg2, '--work-dir', part, '--resume'], repo_root)
    assert 'resumed epoch: 1' in (out.stdout + out.stderr)

    a = weights(osp.join(full, 'epoch_2.pth'))
    b = weights(osp.join(part, 'epoch_2.pth'))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # Both runs wrote the same data fingerprint next to their config.
    fps = []
    for work in (full, part):
        assert glob.glob(osp.join(work, '*.py')), 'config dumped'
        with open(osp.join(work, 'dataset_fingerprint.json')) as f:
            fps.append(json.load(f))
    assert sorted(fps[0]) == ['train', 'val']
    assert fps[0]['train'][0]['digest'] == fps[1]['train'][0]['digest']
    assert fps[0]['train'][0]['dataset'] == 'RAFDB'

    # And training really moved the weights between epochs.
    first = weights(osp.join(full, 'epoch_1.pth'))
    assert not torch.equal(first['head.fc.weight'], a['head.fc.weight'])

    # Resume from an explicit path gives the same as well.
    explicit = str(tmp_path / 'explicit')
    run(
        train
        + [
            cfg2,
            '--work-dir',
            explicit,
            '--resume',
            osp.join(part, 'epoch_1.pth'),
        ],
        repo_root,
    )
    c = weights(osp.join(explicit, 'epoch_2.pth'))
    assert all(torch.equal(a[k], c[k]) for k in a)

    # tools/test.py evaluates the checkpoint and writes the PNG + JSON.
    test_dir = str(tmp_path / 'test')
    pkl = str(tmp_path / 'preds.pkl')
    run(
        [
            sys.executable,
            'tools/test.py',
            cfg2,
            osp.join(full, 'epoch_2.pth'),
            '--work-dir',
            test_dir,
            '--out',
            pkl,
        ],
        repo_root,
    )
    with open(osp.join(test_dir, 'test', 'fer_metrics.json')) as f:
        metrics = json.load(f)
    assert sum(metrics['support']) == 63
    assert 0 <= metrics['accuracy'] <= 100
    assert osp.getsize(osp.join(test_dir, 'test', 'confusion_matrix.png'))
    import pickle

    with open(pkl, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 63


@pytest.mark.slow
def test_dist_train_two_processes_on_cpu(synthetic_rafdb, repo_root, tmp_path):
    cfg = write_tiny_config(
        str(tmp_path / 'tiny.py'), repo_root, synthetic_rafdb, epochs=1
    )
    work = str(tmp_path / 'ddp')
    out = run(
        ['bash', 'tools/dist_train.sh', cfg, '2', '--work-dir', work, '--amp'],
        repo_root,
    )
    log = out.stdout + out.stderr
    assert 'Distributed training: True' in log
    assert 'AutocastOptimWrapper' in log  # --amp without a GPU: bf16
    seen = {}
    for rank in (0, 1):
        with open(osp.join(work, f'seen_rank{rank}.txt')) as f:
            seen[rank] = [line.split()[1] for line in f]
    # DefaultSampler pads the last shard so both ranks see ceil(245/2).
    assert len(seen[0]) == len(seen[1]) == 123
    overlap = set(seen[0]) & set(seen[1])
    assert len(overlap) <= 1  # the single padding sample
    assert len(set(seen[0]) | set(seen[1])) == 245
    ckpts = glob.glob(osp.join(work, '**', '*.pth'), recursive=True)
    assert [osp.basename(c) for c in ckpts] == ['epoch_1.pth']


@pytest.mark.slow
def test_headline_dist_train_command_on_cpu(
    synthetic_rafdb, repo_root, tmp_path
):
    """``tools/dist_train.sh configs/arbex/arbex_rafdb.py 2`` as written (no
    ``sync_bn=None``, no PYTHON): 2 gloo processes, SyncBN -> BatchNorm with
    one log line, the interpreter of the project's environment."""
    work = str(tmp_path / 'arbex')
    data = [
        f'{loader}.dataset.data_root={synthetic_rafdb}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]
    small = [
        'train_cfg.max_epochs=1',
        'train_dataloader.batch_size=4',
        'train_dataloader.dataset.indices=8',
        'val_dataloader.batch_size=4',
        'val_dataloader.dataset.indices=4',
    ]
    env = tool_env(repo_root)
    del env['PYTHON']
    env['FER_MM_VENV'] = sys.prefix  # the environment running the tests
    cmd = ['tools/dist_train.sh', 'configs/arbex/arbex_rafdb.py', '2']
    proc = subprocess.run(
        [*cmd, '--work-dir', work, '--cfg-options', *data, *small],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    assert 'Distributed training: True' in log
    assert log.count('SyncBatchNorm needs GPUs: this CPU (gloo) run') == 1
    state = weights(osp.join(work, 'epoch_1.pth'))
    # BatchNorm buffers, trained: running statistics moved off their init.
    means = [k for k in state if k.endswith('running_mean')]
    assert means
    assert any(state[k].abs().sum() > 0 for k in means)


def _fake_python(path, record):
    with open(path, 'w') as f:
        f.write(f'#!/bin/sh\necho "$0 $*" > {record}\n')
    os.chmod(path, 0o755)


@pytest.mark.parametrize('script', ['dist_train.sh', 'dist_test.sh'])
def test_dist_scripts_prefer_the_project_environment(
    script, repo_root, tmp_path
):
    """$PYTHON, else $FER_MM_VENV or <repo>/.venv, else ``python``."""
    repo = tmp_path / 'repo'
    (repo / 'tools').mkdir(parents=True)
    shutil.copy(osp.join(repo_root, 'tools', script), repo / 'tools')
    (repo / '.venv' / 'bin').mkdir(parents=True)
    (tmp_path / 'other' / 'bin').mkdir(parents=True)
    (tmp_path / 'path').mkdir()
    record = tmp_path / 'called.txt'
    venv_py = repo / '.venv' / 'bin' / 'python'
    other_py = tmp_path / 'other' / 'bin' / 'python'
    path_py = tmp_path / 'path' / 'python'
    for py in (venv_py, other_py, path_py):
        _fake_python(py, record)
    args = (
        ['a.py', '2'] if script == 'dist_train.sh' else ['a.py', 'c.pth', '2']
    )
    base = {'PATH': f'{tmp_path / "path"}{os.pathsep}/usr/bin:/bin'}

    def called(**env):
        subprocess.run(
            ['bash', str(repo / 'tools' / script), *args],
            env={**base, **env},
            check=True,
        )
        return record.read_text().split()

    argv = called()
    assert argv[0] == str(venv_py)
    assert argv[1:3] == ['-m', 'torch.distributed.run']
    assert '--nproc_per_node=2' in argv and '--launcher' in argv
    assert called(FER_MM_VENV=str(tmp_path / 'other'))[0] == str(other_py)
    assert called(PYTHON=str(path_py))[0] == str(path_py)
    shutil.rmtree(repo / '.venv')
    assert called()[0] == str(path_py)

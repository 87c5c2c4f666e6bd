# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""DDP on CPU when a process misbehaves: a stopped rank ends the job after
the collective timeout; a killed torchrun agent takes its ranks with it."""

import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
from mmengine.config import Config

from fer_mm.engine.runner_setup import (
    DEFAULT_DIST_TIMEOUT_S,
    set_default_dist_timeout,
)
from tests.helpers.tiny_config import tool_env, write_tiny_config


def test_default_collective_timeout_and_override():
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='gloo'))))
    assert set_default_dist_timeout(cfg) == DEFAULT_DIST_TIMEOUT_S == 300
    assert cfg.env_cfg.dist_cfg == dict(backend='gloo', timeout=300)
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(timeout=42))))
    assert set_default_dist_timeout(cfg) == 42
    cfg = Config(dict())  # no env_cfg at all
    assert set_default_dist_timeout(cfg) == 300
    assert cfg.env_cfg.dist_cfg.timeout == 300


def children(pid):
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    out = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def alive(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def start_ddp(repo, cfg, work, *extra):
    cmd = [
        sys.executable,
        '-m',
        'torch.distributed.run',
        '--nproc_per_node=2',
        '--master_port=29561',
        'tools/train.py',
        cfg,
        '--launcher',
        'pytorch',
        '--work-dir',
        work,
        *extra,
    ]
    log = open(osp.join(osp.dirname(work), 'ddp.log'), 'w')
    return subprocess.Popen(
        cmd, cwd=repo, env=tool_env(repo), stdout=log, stderr=subprocess.STDOUT
    ), log


def wait_training(proc, work, timeout=300):
    """The two rank pids, once both have trained on a batch."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, 'the job ended before training'
        if all(
            osp.exists(osp.join(work, f'seen_rank{r}.txt')) for r in (0, 1)
        ):
            ranks = children(proc.pid)
            if len(ranks) == 2:
                return ranks
        time.sleep(0.5)
    raise AssertionError('the ranks did not start training')


@pytest.mark.slow
def test_killed_agent_takes_its_ranks(synthetic_rafdb, repo_root, tmp_path):
    cfg = write_tiny_config(
        str(tmp_path / 'long.py'), repo_root, synthetic_rafdb, epochs=200
    )
    work = str(tmp_path / 'work')
    proc, log = start_ddp(repo_root, cfg, work)
    ranks = []
    try:
        ranks = wait_training(proc, work)
        os.kill(proc.pid, signal.SIGKILL)  # the torchrun agent
        proc.wait()
        end = time.monotonic() + 30
        while any(map(alive, ranks)) and time.monotonic() < end:
            time.sleep(0.5)
        left = [p for p in ranks if alive(p)]
        assert not left, f'ranks {left} still running without their agent'
    finally:
        for pid in ranks:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        log.close()
    assert 'the launcher (pid' in open(tmp_path / 'ddp.log').read()


@pytest.mark.slow
def test_stopped_rank_ends_the_job_after_the_timeout(
    synthetic_rafdb, repo_root, tmp_path
):
    cfg = write_tiny_config(
        str(tmp_path / 'long.py'), repo_root, synthetic_rafdb, epochs=200
    )
    work = str(tmp_path / 'work')
    proc, log = start_ddp(
        repo_root, cfg, work, '--cfg-options', 'env_cfg.dist_cfg.timeout=10'
    )
    ranks = []
    try:
        ranks = wait_training(proc, work)
        os.kill(max(ranks), signal.SIGSTOP)
        start = time.monotonic()
        # rank 0 times out in its next all-reduce (10 s); torchrun then
        # stops the job (it gives the stopped rank 30 s, then SIGKILL).
        rc = proc.wait(timeout=150)
        took = time.monotonic() - start
    finally:
        for pid in ranks:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        log.close()
    assert rc != 0
    assert took < 150
    text = open(tmp_path / 'ddp.log').read()
    assert 'env_cfg.dist_cfg.timeout' not in text  # the config's 10 s used
    assert 'imed out' in text or 'timeout' in text.lower(), text[-3000:]

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""CPU (gloo) distributed set-up: SyncBN falls back to BatchNorm, GPUs keep
it."""

import torch
from mmengine.config import Config

import fer_mm.engine.runner_setup as runner_setup
import fer_mm.utils.dist as dist
from fer_mm.utils import sync_bn_to_batch_norm


def make_cfg():
    return Config(
        dict(
            launcher='pytorch',
            sync_bn='torch',
            model=dict(
                type='ImageClassifier',
                backbone=dict(
                    type='ResNet', depth=18, norm_cfg=dict(type='SyncBN')
                ),
                neck=[dict(type='GlobalAveragePooling')],
                head=dict(type='LinearClsHead', num_classes=7),
            ),
        )
    )


def record_logs(monkeypatch):
    lines = []
    monkeypatch.setattr(dist, 'print_log', lambda msg, **kw: lines.append(msg))
    return lines


def test_sync_bn_falls_back_with_one_log_line(monkeypatch):
    lines = record_logs(monkeypatch)
    cfg = make_cfg()
    assert sync_bn_to_batch_norm(cfg)
    assert cfg.sync_bn is None
    assert cfg.model.backbone.norm_cfg.type == 'BN'
    assert len(lines) == 1
    assert "sync_bn='torch'" in lines[0]
    assert "model.backbone.norm_cfg.type='SyncBN'" in lines[0]
    # Nothing to do the second time: no change, no line.
    assert not sync_bn_to_batch_norm(cfg)
    assert len(lines) == 1


def test_cpu_launcher_drops_sync_bn(monkeypatch):
    lines = record_logs(monkeypatch)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    started = []
    monkeypatch.setattr(
        runner_setup, 'init_cpu_distributed', lambda t: started.append(t)
    )
    cfg = make_cfg()
    runner_setup.setup_launcher(cfg)
    # started once, with the config's collective timeout
    assert started == [cfg.env_cfg.dist_cfg.get('timeout')]
    assert cfg.sync_bn is None and cfg.model.backbone.norm_cfg.type == 'BN'
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert len(lines) == 1


def test_sync_bn_stays_on_when_cuda_is_reported(monkeypatch):
    lines = record_logs(monkeypatch)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    started = []
    monkeypatch.setattr(
        runner_setup, 'init_cpu_distributed', lambda t: started.append(t)
    )
    cfg = make_cfg()
    runner_setup.setup_launcher(cfg)
    assert cfg.sync_bn == 'torch'
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN'
    # no gloo, no CPU wrapper, no process group started here
    assert cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend') != 'gloo'
    assert 'model_wrapper_cfg' not in cfg
    assert started == [] and lines == []


def test_single_process_run_is_left_alone(monkeypatch):
    lines = record_logs(monkeypatch)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = make_cfg()
    cfg.launcher = 'none'
    runner_setup.setup_launcher(cfg)
    # mmengine converts sync_bn only for a distributed run.
    assert cfg.sync_bn == 'torch' and lines == []

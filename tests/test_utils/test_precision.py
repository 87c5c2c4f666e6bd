# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Mixed precision chosen by the hardware (the capability probes patched)."""

from unittest import mock

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from fer_mm.engine import AutocastOptimWrapper
from fer_mm.engine.runner_setup import setup_amp, setup_test_amp
from fer_mm.utils import precision


def cpu(amx: bool, avx512_bf16: bool):
    """Patch the CPU's reported bf16 units (and pretend there is no GPU)."""
    return mock.patch.multiple(
        torch.cpu,
        _is_amx_tile_supported=lambda: amx,
        _is_avx512_bf16_supported=lambda: avx512_bf16,
    )


@pytest.fixture(autouse=True)
def no_gpu_no_env(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.delenv(precision.ENV_VAR, raising=False)


class AutocastProbe(nn.Module):
    """Records whether CPU autocast was on, and in which dtype."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.seen = []

    def forward(self, x):
        self.seen.append(
            (
                torch.is_autocast_enabled('cpu'),
                torch.get_autocast_dtype('cpu'),
            )
        )
        return self.fc(x)


def step(wrapper, model):
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    wrapper.update_params(out.float().sum())
    return model.seen[-1], out.dtype


def amp_wrapper_from_cli(model, amp_dtype='auto'):
    """What ``tools/train.py --amp [--amp-dtype D]`` builds on a CPU."""
    cfg = Config(dict(optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1))))
    setup_amp(cfg, amp_dtype)
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
    kwargs = dict(cfg.optim_wrapper)
    kwargs.pop('type')
    kwargs.pop('optimizer')
    return AutocastOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), **kwargs
    )


@pytest.mark.parametrize('amx,avx512_bf16', [(False, False)])
def test_amp_on_cpu_without_native_bf16_trains_fp32(amx, avx512_bf16):
    model = AutocastProbe()
    with (
        cpu(amx, avx512_bf16),
        mock.patch.object(precision, 'print_log') as log,
    ):
        wrapper = amp_wrapper_from_cli(model)
    assert wrapper.cast_dtype is None
    (enabled, _), out_dtype = step(wrapper, model)
    assert not enabled, '--amp enabled autocast on a CPU without native bf16'
    assert out_dtype == torch.float32
    # One clear line saying why.
    assert log.call_count == 1
    msg = log.call_args[0][0]
    assert 'no native bf16' in msg and 'float32' in msg


@pytest.mark.parametrize('amx,avx512_bf16', [(True, False), (False, True)])
def test_amp_on_cpu_with_native_bf16_uses_bf16(amx, avx512_bf16):
    model = AutocastProbe()
    with cpu(amx, avx512_bf16):
        wrapper = amp_wrapper_from_cli(model)
    assert wrapper.cast_dtype == torch.bfloat16
    (enabled, dtype), out_dtype = step(wrapper, model)
    assert enabled and dtype == torch.bfloat16
    assert out_dtype == torch.bfloat16


def test_forcing_either_way():
    model = AutocastProbe()
    with cpu(False, False):
        forced = amp_wrapper_from_cli(model, 'bfloat16')
        assert forced.cast_dtype == torch.bfloat16
        assert step(forced, model)[0] == (True, torch.bfloat16)
    with cpu(True, True):
        off = amp_wrapper_from_cli(model, 'fp32')
        assert off.cast_dtype is None
        assert step(off, model)[0][0] is False


def test_environment_variable_overrides_auto_only(monkeypatch):
    with cpu(False, False):
        monkeypatch.setenv(precision.ENV_VAR, 'bf16')
        assert precision.resolve_autocast_dtype('cpu') == torch.bfloat16
        # An explicit request wins over the variable.
        assert precision.resolve_autocast_dtype('cpu', 'float32') is None
    with cpu(True, False):
        monkeypatch.setenv(precision.ENV_VAR, 'fp32')
        assert precision.resolve_autocast_dtype('cpu') is None


def test_gpu_auto_is_fp16_and_cli_uses_mmengine_amp(monkeypatch):
    assert precision.resolve_autocast_dtype('cuda') == torch.float16
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = Config(dict(optim_wrapper=dict(optimizer=dict(type='SGD'))))
    setup_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'


def test_test_amp_follows_the_hardware():
    for native, expect in ((False, None), (True, True)):
        cfg = Config(dict(test_cfg=dict()))
        with cpu(native, False), mock.patch.object(precision, 'print_log'):
            setup_test_amp(cfg)
        assert cfg.test_cfg.get('fp16') is expect
    cfg = Config(dict(test_cfg=dict()))
    with cpu(False, False):
        setup_test_amp(cfg, 'bfloat16')
    assert cfg.test_cfg.fp16 is True


def test_fer_autocast_context():
    with cpu(False, False):
        with precision.fer_autocast('cpu') as dtype:
            assert dtype is None and not torch.is_autocast_enabled('cpu')
    with cpu(True, False):
        with precision.fer_autocast('cpu') as dtype:
            assert dtype == torch.bfloat16
            assert torch.is_autocast_enabled('cpu')
    assert not torch.is_autocast_enabled('cpu')


def test_bad_precision_names_the_choices():
    with pytest.raises(
        ValueError, match=r"precision must be one of .*got 'int8'"
    ):
        precision.normalize_precision('int8')


def test_probe_failure_means_no_native_bf16(monkeypatch):
    def broken():
        raise RuntimeError('cpuinfo unavailable')

    monkeypatch.setattr(torch.cpu, '_is_amx_tile_supported', broken)
    monkeypatch.setattr(torch.cpu, '_is_avx512_bf16_supported', broken)
    assert precision.cpu_has_native_bf16() is False
    assert 'amx_tile no' in precision.describe_cpu()


def test_amp_forwards_the_choice_to_sam_on_cpu():
    cfg = Config(
        dict(
            optim_wrapper=dict(type='SAMOptimWrapper', rho=0.05, optimizer={})
        )
    )
    setup_amp(cfg)
    assert cfg.optim_wrapper.type == 'SAMOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'auto'  # resolved by the hardware
    setup_amp(cfg, 'fp32')
    assert cfg.optim_wrapper.dtype == 'float32'

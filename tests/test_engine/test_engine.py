# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import random

import numpy as np
import pytest
import torch
import torch.nn as nn

from fer_mm.engine import AutocastOptimWrapper, RNGStateHook


def test_autocast_optim_wrapper_runs_bf16_and_updates_fp32():
    model = nn.Linear(8, 4)
    # Forced bf16 (the default 'auto' depends on the CPU: see
    # tests/test_utils/test_precision.py).
    wrapper = AutocastOptimWrapper(
        dtype='bfloat16', optimizer=torch.optim.SGD(model.parameters(), lr=0.1)
    )
    x = torch.randn(5, 8)
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(x)
    assert out.dtype == torch.bfloat16
    loss = out.float().pow(2).mean()
    wrapper.update_params(loss)
    assert model.weight.dtype == torch.float32
    assert not torch.equal(before, model.weight)
    # Outside the context nothing is cast.
    assert model(x).dtype == torch.float32


def test_autocast_optim_wrapper_bad_dtype():
    with pytest.raises(ValueError, match='precision must be one of'):
        AutocastOptimWrapper(
            dtype='int8',
            optimizer=torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=1),
        )


def test_rng_state_hook_round_trip():
    hook = RNGStateHook()
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    ckpt = {}
    hook.before_save_checkpoint(None, ckpt)
    expected = (random.random(), np.random.rand(3), torch.rand(3))
    # Scramble, then restore from the checkpoint.
    random.seed(9)
    np.random.seed(9)
    torch.manual_seed(9)
    hook.after_load_checkpoint(None, ckpt)
    got = (random.random(), np.random.rand(3), torch.rand(3))
    assert expected[0] == got[0]
    assert np.array_equal(expected[1], got[1])
    assert torch.equal(expected[2], got[2])

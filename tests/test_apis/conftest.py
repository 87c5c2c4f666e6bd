# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Real photographs shipped offline by scikit-image, and small models."""

import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from fer_mm.datasets.categories import RAFDB_CATEGORIES

RESNET = 'configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py'
DAN = 'configs/dan/dan_resnet18_1xb64-8e_synthetic-rafdb.py'
POSTER = 'configs/poster_v2/posterv2_1xb32-5e_synthetic-rafdb.py'
ARBEX = 'configs/arbex/arbex_resnet18_1xb64-8e_synthetic-rafdb.py'
LSD_MTL = 'configs/lsd/lsd-mtl_resnet18-w8_1xb32-5e_synthetic-lsd.py'
# The test checkpoint's class names: RAF-DB's, in reverse order (so that a
# name from the checkpoint differs from the config dataset's).
CKPT_CLASSES = list(reversed(RAFDB_CATEGORIES))


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread while these tests run: MTCNN's many small ops
    slow down by an order of magnitude when OpenMP threads contend with
    other work on a shared 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope='session')
def astronaut():
    """512x512 BGR photograph with one face (Eileen Collins)."""
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture(scope='session')
def coffee():
    """400x600 BGR photograph of a coffee cup: no face."""
    from skimage import data

    return cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR)


def config_path(repo_root, rel):
    return osp.join(repo_root, rel)


@pytest.fixture(scope='session')
def resnet_checkpoint(tmp_path_factory, repo_root):
    """An mmengine-style checkpoint of the ResNet-18 config with seeded
    random weights."""
    from fer_mm.apis.model import build_classifier

    torch.manual_seed(0)
    model, _, _ = build_classifier(config_path(repo_root, RESNET))
    # Spread the head so that predictions are not uniform.
    with torch.no_grad():
        model.head.fc.weight.mul_(50)
    path = str(tmp_path_factory.mktemp('ckpt') / 'resnet18.pth')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(classes=CKPT_CLASSES)),
        ),
        path,
    )
    return path


@pytest.fixture(scope='session')
def inferencer(repo_root, resnet_checkpoint):
    from fer_mm.apis import FERInferencer

    return FERInferencer(config_path(repo_root, RESNET), resnet_checkpoint)


def write_clip(path, frames, fps=25.0, fourcc='mp4v'):
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(
        path, cv2.VideoWriter_fourcc(*fourcc), fps, (w, h)
    )
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def moving_frames(img, n, size=(320, 240), step=(2.0, 1.0), scale=0.5):
    """``n`` frames of ``img`` scaled and shifted by ``step`` px a frame."""
    frames, mats = [], []
    for i in range(n):
        mat = np.array(
            [[scale, 0, 20 + step[0] * i], [0, scale, 0 + step[1] * i]],
            np.float64,
        )
        frames.append(
            cv2.warpAffine(img, mat, size, borderValue=(90, 110, 100))
        )
        mats.append(mat)
    return frames, mats

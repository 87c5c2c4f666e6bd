# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""tools/visualization: mmpretrain's browse_dataset on fer_mm's datasets."""

import os
import os.path as osp
import subprocess
import sys
import types

import cv2
import numpy as np

from tests.helpers.tiny_config import tool_env
from tests.helpers.tools import load_tool

RESNET = 'configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py'


def test_fit_adjust_bbox_only_when_needed():
    tool = load_tool('tools/visualization/browse_dataset.py')
    calls = []

    def needs_renderer(fig, bbox_inches, renderer, fixed_dpi=None):
        calls.append((fig, bbox_inches, renderer, fixed_dpi))

    fig = types.SimpleNamespace(
        canvas=types.SimpleNamespace(get_renderer=lambda: 'R')
    )
    module = types.SimpleNamespace(adjust_bbox=needs_renderer)
    assert tool.fit_adjust_bbox(module)
    module.adjust_bbox(fig, 'B')  # mmpretrain's two-argument call
    assert calls == [(fig, 'B', 'R', None)]

    def old_style(fig, bbox_inches, fixed_dpi=None):
        pass

    module = types.SimpleNamespace(adjust_bbox=old_style)
    assert not tool.fit_adjust_bbox(module)
    assert module.adjust_bbox is old_style


def test_browse_dataset_writes_the_pipeline(
    repo_root, synthetic_rafdb, tmp_path
):
    out = tmp_path / 'browse'
    proc = subprocess.run(
        [
            sys.executable,
            'tools/visualization/browse_dataset.py',
            RESNET,
            '-o',
            str(out),
            '--not-show',
            '-n',
            '2',
            '-m',
            'pipeline',
            '--cfg-options',
            f'train_dataloader.dataset.data_root={synthetic_rafdb}',
        ],
        cwd=repo_root,
        env=tool_env(repo_root),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'Warning' not in proc.stderr, proc.stderr[-3000:]
    # The first two training samples of RAF-DB's list, under their names.
    with open(
        osp.join(
            synthetic_rafdb, 'basic', 'EmoLabel', 'list_patition_label.txt'
        )
    ) as f:
        first = [line.split()[0] for line in f if line.startswith('train')][:2]
    names = [n.replace('.jpg', '_aligned.jpg') for n in first]
    assert sorted(os.listdir(out)) == sorted(names)
    src = cv2.imread(
        osp.join(synthetic_rafdb, 'basic', 'Image', 'aligned', names[0])
    )
    drawn = cv2.imread(str(out / names[0]))
    # 3 panels (loaded, RandomResizedCrop, RandomFlip) side by side, with
    # titles and the label: wider than high, much larger than the face.
    h, w = drawn.shape[:2]
    assert w > 2 * h and h > 2 * src.shape[0]
    small = cv2.resize(drawn, src.shape[1::-1])
    assert np.abs(small.astype(int) - src.astype(int)).mean() > 5

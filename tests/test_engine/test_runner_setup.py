# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The batch augments a stock model base brings are said before training."""

import os.path as osp

from mmengine.config import Config

import fer_mm.engine.runner_setup as runner_setup
from fer_mm.engine.runner_setup import log_batch_augments


def test_convnext_base_augments_are_logged(tmp_path, monkeypatch, repo_root):
    lines = []
    monkeypatch.setattr(
        runner_setup, 'print_log', lambda msg, **kw: lines.append(msg)
    )
    cfg_file = tmp_path / 'convnext_fer.py'
    cfg_file.write_text(
        "_base_ = ['mmpretrain::_base_/models/convnext/convnext-tiny.py']\n"
        'model = dict(head=dict(num_classes=7))\n'
    )
    line = log_batch_augments(Config.fromfile(str(cfg_file)))
    assert lines == [line]
    assert 'model.train_cfg: Mixup(alpha=0.8), CutMix(alpha=1.0)' in line
    assert 'model.train_cfg=None' in line
    # a FER config without batch augments: nothing said
    resnet = osp.join(
        repo_root, 'configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py'
    )
    assert log_batch_augments(Config.fromfile(resnet)) is None
    mix = osp.join(
        repo_root,
        'configs/mixaugment/mixaugment_resnet18_1xb64-8e_synthetic-rafdb.py',
    )
    assert 'MixAugment(alpha=0.1)' in log_batch_augments(Config.fromfile(mix))
    assert len(lines) == 2

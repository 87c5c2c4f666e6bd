# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The documented TensorBoard switch works on a fer_mm config."""

import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import VISUALIZERS


def test_tensorboard_backend_from_the_config(repo_root, tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )

    cfg = Config.fromfile(
        osp.join(
            repo_root, 'configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py'
        )
    )
    # no _scope_ key (the dict is passed to the class as it is)
    assert '_scope_' not in cfg.visualizer
    # the switch of the docs (analysis and visualisation tools)
    cfg.merge_from_dict(
        dict(
            visualizer=dict(
                vis_backends=[
                    dict(type='LocalVisBackend'),
                    dict(type='TensorboardVisBackend'),
                ]
            )
        )
    )
    vis = VISUALIZERS.build(
        dict(cfg.visualizer, name='tb_test', save_dir=str(tmp_path))
    )
    vis.add_scalars({'fer/accuracy': 12.5}, step=3)
    vis.close()
    (events,) = glob.glob(
        str(tmp_path / '**' / 'events.out.tfevents.*'), recursive=True
    )
    acc = EventAccumulator(osp.dirname(events))
    acc.Reload()
    (scalar,) = acc.Scalars('fer/accuracy')
    assert (scalar.step, scalar.value) == (3, 12.5)
    assert glob.glob(str(tmp_path / '**' / 'scalars.json'), recursive=True)

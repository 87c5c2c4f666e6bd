# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""fer_mm's components are reachable through mmpretrain's registries."""

import os.path as osp

import pytest
from mmengine.config import Config
from mmpretrain.registry import DATASETS, HOOKS, METRICS, OPTIM_WRAPPERS


def test_components_registered_in_mmpretrain_scope():
    import fer_mm  # noqa: F401
    from fer_mm.datasets import RAFDB
    from fer_mm.engine import AutocastOptimWrapper, RNGStateHook
    from fer_mm.evaluation import FERMetric

    assert DATASETS.get('RAFDB') is RAFDB
    assert METRICS.get('FERMetric') is FERMetric
    assert HOOKS.get('RNGStateHook') is RNGStateHook
    assert OPTIM_WRAPPERS.get('AutocastOptimWrapper') is AutocastOptimWrapper


def test_build_round_trip(synthetic_rafdb):
    import fer_mm  # noqa: F401

    ds = DATASETS.build(
        dict(type='RAFDB', data_root=synthetic_rafdb, split='test')
    )
    assert type(ds).__name__ == 'RAFDB' and len(ds) == 63
    metric = METRICS.build(dict(type='FERMetric', class_subset=[0, 1]))
    assert metric.class_subset == [0, 1] and metric.prefix == 'fer'
    hook = HOOKS.build(dict(type='RNGStateHook'))
    assert hook.priority == 'VERY_LOW'


@pytest.mark.parametrize(
    'config',
    [
        'configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py',
    ],
)
def test_configs_build_model_and_dataset(repo_root, config, synthetic_rafdb):
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    cfg = Config.fromfile(osp.join(repo_root, config))
    # fer_mm registers its modules; its runtime base also turns on the
    # weights-only checkpoint loader (importing fer_mm alone does not).
    assert cfg.custom_imports['imports'] == [
        'fer_mm',
        'fer_mm.utils.weights_only_loading',
    ]
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    assert model.head.num_classes == 7
    ds_cfg = dict(cfg.train_dataloader.dataset, data_root=synthetic_rafdb)
    ds = DATASETS.build(ds_cfg)
    assert ds[0]['inputs'].shape[-2:] == (64, 64)

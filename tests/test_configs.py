# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Every shipped config loads, imports fer_mm, and is indexed for the zoo."""

import glob
import os.path as osp

import pytest
import yaml
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p
    for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    if '_base_' not in p
)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_loads(path):
    cfg = Config.fromfile(path)
    assert 'fer_mm' in cfg.custom_imports['imports']
    assert cfg.custom_imports['allow_failed_imports'] is False
    assert cfg.default_scope in ('mmpretrain', 'mmagic')
    assert {'RNGStateHook'} <= {h['type'] for h in cfg.custom_hooks}


def test_model_index_covers_every_method_folder():
    with open(osp.join(REPO, 'model-index.yml')) as f:
        imports = yaml.safe_load(f)['Import']
    folders = {osp.dirname(p) for p in CONFIGS}
    assert {osp.join(REPO, osp.dirname(i)) for i in imports} == folders
    for meta in imports:
        with open(osp.join(REPO, meta)) as f:
            content = yaml.safe_load(f)
        assert osp.isfile(osp.join(REPO, osp.dirname(meta), 'README.md'))
        for model in content['Models']:
            assert osp.isfile(osp.join(REPO, model['Config'])), model['Name']


def _loader(cfg_path, data_root, key='train_dataloader', **overrides):
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    import fer_mm  # noqa: F401

    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets', cfg_path))
    loader = cfg[key]
    loader.dataset.data_root = data_root
    loader.update(num_workers=0, persistent_workers=False, **overrides)
    return Runner.build_dataloader(loader, seed=0)


def test_affwild2_base_config_with_refinement_sampler(tmp_path):
    from fer_mm.datasets.synthetic import generate_affwild2

    root = str(tmp_path / 'aw2')
    generate_affwild2(
        root,
        num_videos=4,
        frames_per_video=(40, 50),
        val_videos=1,
        num_workers=1,
        progress=False,
    )
    loader = _loader('affwild2_bs64.py', root, batch_size=8)
    sampler = loader.sampler
    assert type(sampler).__name__ == 'VideoRefinementSampler'
    assert sampler.frames_per_video == 512
    batch = next(iter(loader))
    assert batch['inputs'][0].shape == (3, 224, 224)
    val = _loader('affwild2_bs64.py', root, key='val_dataloader', batch_size=4)
    sample = next(iter(val))['data_samples'][0]
    assert sample.video and sample.frame >= 1


def test_rafdb_balanced_and_lsd_configs(tmp_path, synthetic_rafdb):
    from fer_mm.datasets.synthetic import generate_lsd

    loader = _loader('rafdb_balanced_bs64.py', synthetic_rafdb, batch_size=4)
    assert type(loader.sampler).__name__ == 'ClassBalancedSampler'
    assert len(loader.sampler) == len(loader.dataset)
    generate_lsd(str(tmp_path), scale=0.0005, num_workers=1, progress=False)
    loader = _loader('abaw4_lsd_bs64.py', str(tmp_path), batch_size=4)
    assert loader.dataset.metainfo['classes'][0] == 'Anger'
    assert next(iter(loader))['inputs'][0].shape == (3, 224, 224)

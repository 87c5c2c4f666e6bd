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

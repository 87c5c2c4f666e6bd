# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Map DAN's released checkpoints onto fer_mm's module names.

`Distract Your Attention <https://arxiv.org/abs/2109.07270>`_; reference code
GitHub ``yaoing/DAN`` (``networks/dan.py``). Two sources are understood:

``'dan'``: the reference's checkpoints, ``{'model_state_dict': ...}`` of
``DAN``, whose modules are

- ``features``: ``nn.Sequential(*list(resnet18.children())[:-2])``, so
  ``features.{0,1,4,5,6,7}`` are torchvision's ``conv1``, ``bn1``,
  ``layer1`` ... ``layer4`` (2 and 3 are ReLU and max-pool, no weights);
- ``cat_head{i}.sa.{conv1x1,conv_3x3,conv_1x3,conv_3x1}.{0,1}``: the
  spatial unit's (Conv2d, BatchNorm2d) pairs;
- ``cat_head{i}.ca.attention.{0,1,3}``: the channel unit's Linear,
  BatchNorm1d and Linear (2 is ReLU, 4 Sigmoid);
- ``fc`` and ``bn``: the AFN's Linear and BatchNorm1d.

``'resnet'``: the MS-Celeb-1M ResNet-18 the reference starts from,
``{'state_dict': ...}`` with torchvision names (``conv1``, ``bn1``,
``layer1.0.conv1`` ...; ``fc`` is dropped).

fer_mm's names (``ImageClassifier`` with mmpretrain's ``ResNet``,
:class:`~fer_mm.models.DANAttentionNeck`, :class:`~fer_mm.models.DANHead`):
``backbone.{conv1,bn1,layer1..4}...`` (torchvision's names),
``neck.heads.{i}.spatial.{conv1x1,conv3x3,conv1x3,conv3x1}.{conv,bn}...``,
``neck.heads.{i}.channel.{fc1,norm,fc2}...``, ``head.fc...``, ``head.bn...``
and ``head.affinity_loss.centers``. The reference keeps the affinity centres
in its loss module, outside ``model_state_dict``, so a converted reference
checkpoint has none: :func:`init_missing_centers` draws them from ``N(0, 1)``
like the reference's initialisation (they only matter for further training).
"""

import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

import torch

_TRUNK = {
    '0': 'conv1',
    '1': 'bn1',
    '4': 'layer1',
    '5': 'layer2',
    '6': 'layer3',
    '7': 'layer4',
}
_SPATIAL = {
    'conv1x1': 'conv1x1',
    'conv_3x3': 'conv3x3',
    'conv_1x3': 'conv1x3',
    'conv_3x1': 'conv3x1',
}
_CONV_BN = {'0': 'conv', '1': 'bn'}
_CHANNEL = {'0': 'fc1', '1': 'norm', '3': 'fc2'}

_DAN_PATTERNS = (
    (
        re.compile(r'^features\.(\d+)\.(.+)$'),
        lambda m: f'backbone.{_TRUNK[m[1]]}.{m[2]}'
        if m[1] in _TRUNK
        else None,
    ),
    (
        re.compile(
            r'^cat_head(\d+)\.sa\.(conv1x1|conv_3x3|conv_1x3|conv_3x1)\.([01])\.(.+)$'
        ),
        lambda m: f'neck.heads.{m[1]}.spatial.{_SPATIAL[m[2]]}.{_CONV_BN[m[3]]}.{m[4]}',
    ),
    (
        re.compile(r'^cat_head(\d+)\.ca\.attention\.([013])\.(.+)$'),
        lambda m: f'neck.heads.{m[1]}.channel.{_CHANNEL[m[2]]}.{m[3]}',
    ),
    (re.compile(r'^(fc|bn)\.(.+)$'), lambda m: f'head.{m[1]}.{m[2]}'),
)
_RESNET_PATTERN = re.compile(r'^(conv1|bn1|layer[1-4])\.(.+)$')
_RESNET_DROPPED = re.compile(r'^fc\.')


def convert_key(key: str, source: str) -> Optional[str]:
    """fer_mm's name of one source key, or None if it has none.

    Args:
        key (str): A key of the source state dict (no ``module.`` prefix).
        source (str): ``'dan'`` or ``'resnet'`` (see the module doc).

    Returns:
        str | None: The fer_mm key.
    """
    if source == 'dan':
        for pattern, rename in _DAN_PATTERNS:
            match = pattern.match(key)
            if match:
                return rename(match)
        return None
    if source == 'resnet':
        match = _RESNET_PATTERN.match(key)
        return f'backbone.{key}' if match else None
    raise ValueError(f"source must be 'dan' or 'resnet', got {source!r}")


def detect_source(checkpoint: Mapping) -> Tuple[str, Dict[str, torch.Tensor]]:
    """Find the state dict in a checkpoint and tell which source it is.

    Args:
        checkpoint (Mapping): A loaded checkpoint.

    Returns:
        tuple[str, dict]: ``'dan'`` or ``'resnet'``, and the state dict with
        any ``module.`` (DataParallel) prefix removed.

    Raises:
        ValueError: Neither layout is recognised.
    """
    if not isinstance(checkpoint, Mapping):
        raise ValueError(
            f'expected a dict checkpoint, got {type(checkpoint).__name__}'
        )
    for field in ('model_state_dict', 'state_dict'):
        if field in checkpoint and isinstance(checkpoint[field], Mapping):
            state = checkpoint[field]
            break
    else:
        state = checkpoint
    state = OrderedDict(
        (k[len('module.') :] if k.startswith('module.') else k, v)
        for k, v in state.items()
    )
    keys = list(state)
    if any(k.startswith(('features.', 'cat_head')) for k in keys):
        return 'dan', state
    if 'conv1.weight' in state and any(k.startswith('layer1.') for k in keys):
        return 'resnet', state
    if any(k.startswith(('backbone.', 'neck.', 'head.')) for k in keys):
        raise ValueError('this checkpoint already has fer_mm key names')
    raise ValueError(
        'unrecognised checkpoint: expected the DAN reference layout '
        "('model_state_dict' with features.* / cat_head*) or a torchvision "
        "ResNet ('state_dict' with conv1.* / layer1.*)"
    )


def convert_state_dict(
    state: Mapping[str, torch.Tensor], source: str
) -> Tuple['OrderedDict[str, torch.Tensor]', List[str], List[str]]:
    """Rename a source state dict to fer_mm's key names.

    Args:
        state (Mapping): The source state dict (see :func:`detect_source`).
        source (str): ``'dan'`` or ``'resnet'``.

    Returns:
        tuple: ``(converted, dropped, unexpected)``: the renamed state dict;
        the source keys left out by design (the MS-Celeb classifier
        ``fc.*``); the source keys with no counterpart.
    """
    converted: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    dropped, unexpected = [], []
    for key, value in state.items():
        new_key = convert_key(key, source)
        if new_key is not None:
            converted[new_key] = value
        elif source == 'resnet' and _RESNET_DROPPED.match(key):
            dropped.append(key)
        else:
            unexpected.append(key)
    return converted, dropped, unexpected


def infer_dan_arch(state: Mapping[str, torch.Tensor]) -> Dict[str, int]:
    """Read ``num_classes``, ``num_heads`` and ``in_channels`` of a reference state dict.

    Args:
        state (Mapping): A ``'dan'`` state dict (source key names).

    Returns:
        dict: ``num_classes``, ``num_heads`` and ``in_channels``.
    """
    heads = {
        int(m[1])
        for m in (re.match(r'^cat_head(\d+)\.', k) for k in state)
        if m
    }
    if 'fc.weight' not in state or not heads:
        raise ValueError(
            'not a DAN reference state dict (no fc.weight / cat_head*)'
        )
    num_classes, in_channels = state['fc.weight'].shape
    return dict(
        num_classes=int(num_classes),
        num_heads=len(heads),
        in_channels=int(in_channels),
    )


def init_missing_centers(
    converted: Dict[str, torch.Tensor],
    target: Mapping[str, torch.Tensor],
    seed: int = 0,
) -> List[str]:
    """Draw the affinity centres the reference never saves.

    Every key of ``target`` ending in ``affinity_loss.centers`` that
    ``converted`` lacks gets ``N(0, 1)`` values of the target's shape (the
    reference's initialisation), from a generator seeded with ``seed``.

    Args:
        converted (dict): The converted state dict, updated in place.
        target (Mapping): The state dict of the fer_mm model to load into.
        seed (int): Seed of the draw. Defaults to 0.

    Returns:
        list[str]: The keys added.
    """
    generator = torch.Generator().manual_seed(seed)
    added = []
    for key, value in target.items():
        if key.endswith('affinity_loss.centers') and key not in converted:
            converted[key] = torch.randn(
                value.shape, generator=generator, dtype=value.dtype
            )
            added.append(key)
    return added


def compare_state_dicts(
    converted: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor]
) -> Dict[str, List[str]]:
    """Match a converted state dict against a model's.

    Args:
        converted (Mapping): The converted state dict.
        target (Mapping): The model's state dict (or the part of it the
            source should provide).

    Returns:
        dict[str, list[str]]: ``matched`` (same name and shape), ``missing``
        (in ``target`` only), ``unexpected`` (in ``converted`` only) and
        ``mismatched`` (``'key: source shape -> target shape'``).
    """
    report: Dict[str, List[str]] = dict(
        matched=[], missing=[], unexpected=[], mismatched=[]
    )
    for key, value in target.items():
        if key not in converted:
            report['missing'].append(key)
        elif tuple(converted[key].shape) != tuple(value.shape):
            report['mismatched'].append(
                f'{key}: {tuple(converted[key].shape)} -> {tuple(value.shape)}'
            )
        else:
            report['matched'].append(key)
    report['unexpected'] = [k for k in converted if k not in target]
    return report

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Convert DAN's released checkpoints to fer_mm's key names.

    python tools/model_converters/dan_to_fermm.py SRC DST \\
        [--config CONFIG] [--allow-missing] [--seed 0]

SRC is either a checkpoint of the reference code (GitHub ``yaoing/DAN``,
``{'model_state_dict': ...}``) or its MS-Celeb-1M ResNet-18
(``{'state_dict': ...}``, torchvision names). The file is read with
weights-only unpickling. The keys are renamed (see
*Key mapping* below) and matched against the model of
CONFIG (default: ``configs/_base_/models/dan_resnet18.py``; for a reference
checkpoint its class and head counts are read from the file); the matched,
missing, unexpected and dropped keys are printed. A ResNet checkpoint is
matched against ``backbone.*`` only: load it with
``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='backbone.')``.

The reference does not save its affinity centres; they are drawn from
``N(0, 1)`` (seed ``--seed``) and listed as initialised. The exit status is 1
when keys are missing (unless ``--allow-missing``) or shapes differ.
DST holds ``{'state_dict': ..., 'meta': {...}}``.

Key mapping
-----------

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

import argparse
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from fer_mm.utils import load_checkpoint_file

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


# ---------------------------------------------------------------------------
# Command line
DEFAULT_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'configs/_base_/models/dan_resnet18.py',
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='reference checkpoint or MS-Celeb ResNet')
    parser.add_argument('dst', help='where to save the converted file')
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='config whose `model` the keys are matched against',
    )
    parser.add_argument(
        '--allow-missing',
        action='store_true',
        help='save even if the model has keys the source lacks',
    )
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the affinity centres'
    )
    return parser.parse_args(argv)


def target_state_dict(config, source, arch):
    """The state dict of the model the converted keys must fit."""
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model_cfg = cfg.model
    if arch:
        model_cfg.neck.update(
            num_heads=arch['num_heads'], in_channels=arch['in_channels']
        )
        model_cfg.head.update(
            num_classes=arch['num_classes'], in_channels=arch['in_channels']
        )
    state = MODELS.build(model_cfg).state_dict()
    if source == 'resnet':
        state = {k: v for k, v in state.items() if k.startswith('backbone.')}
    return state


def _print_keys(title, keys, limit=20):
    print(f'{title}: {len(keys)}')
    for key in keys[:limit]:
        print(f'    {key}')
    if len(keys) > limit:
        print(f'    ... ({len(keys) - limit} more)')


def main(argv=None) -> int:
    args = parse_args(argv)
    checkpoint = load_checkpoint_file(args.src, map_location='cpu')
    source, state = detect_source(checkpoint)
    arch = infer_dan_arch(state) if source == 'dan' else None
    converted, dropped, unmapped = convert_state_dict(state, source)
    target = target_state_dict(args.config, source, arch)
    initialised = init_missing_centers(converted, target, seed=args.seed)
    report = compare_state_dicts(converted, target)

    details = ''.join(f', {k}={v}' for k, v in (arch or {}).items())
    print(f'source: {args.src} ({source} layout{details})')
    print(f'matched: {len(report["matched"]) - len(initialised)}')
    _print_keys('initialised (not stored by the reference)', initialised)
    _print_keys('dropped (by design)', dropped)
    _print_keys('missing (in the model, not in the source)', report['missing'])
    _print_keys(
        'unexpected (in the source, no counterpart)',
        unmapped + report['unexpected'],
    )
    _print_keys('shape mismatches', report['mismatched'])

    if report['mismatched'] or (report['missing'] and not args.allow_missing):
        print('not saved: fix the mismatches above or pass --allow-missing')
        return 1
    for key in report['unexpected']:
        converted.pop(key)
    meta = dict(
        source=osp.abspath(args.src),
        source_layout=source,
        converter='tools/model_converters/dan_to_fermm.py',
        initialised_keys=initialised,
        dropped_keys=dropped,
        **(arch or {}),
    )
    torch.save(dict(state_dict=converted, meta=meta), args.dst)
    print(f'saved {len(converted)} tensors to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

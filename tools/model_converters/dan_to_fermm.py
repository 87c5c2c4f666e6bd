# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Convert DAN's released checkpoints to fer_mm's key names.

    python tools/model_converters/dan_to_fermm.py SRC DST \
        [--config CONFIG] [--allow-missing] [--seed 0]

SRC is either a checkpoint of the reference code (GitHub ``yaoing/DAN``,
``{'model_state_dict': ...}``) or its MS-Celeb-1M ResNet-18
(``{'state_dict': ...}``, torchvision names). The file is read with
weights-only unpickling. The keys are renamed (see
``fer_mm/models/utils/dan_converter.py``) and matched against the model of
CONFIG (default: ``configs/_base_/models/dan_resnet18.py``; for a reference
checkpoint its class and head counts are read from the file); the matched,
missing, unexpected and dropped keys are printed. A ResNet checkpoint is
matched against ``backbone.*`` only: load it with
``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='backbone.')``.

The reference does not save its affinity centres; they are drawn from
``N(0, 1)`` (seed ``--seed``) and listed as initialised. The exit status is 1
when keys are missing (unless ``--allow-missing``) or shapes differ.
DST holds ``{'state_dict': ..., 'meta': {...}}``.
"""

import argparse
import os.path as osp
import sys

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from fer_mm.models.utils.dan_converter import (
    compare_state_dicts,
    convert_state_dict,
    detect_source,
    infer_dan_arch,
    init_missing_centers,
)
from fer_mm.utils import load_checkpoint_file

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

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Convert POSTER V2 reference weights to fer_mm's key layout.

Examples::

    # a released POSTER V2 checkpoint -> a FERClassifier checkpoint
    # (backbone.* = PosterV2, head.fc.* = LinearClsHead), usable as load_from
    python tools/model_converters/poster_to_fermm.py \\
        raf-db-model_best.pth work_dirs/posterv2_rafdb_fermm.pth

    # the stream weights (also accepted as-is by PosterV2's
    # ir50_checkpoint / landmark_checkpoint)
    python tools/model_converters/poster_to_fermm.py ir50.pth ir50_fermm.pth
    python tools/model_converters/poster_to_fermm.py \\
        mobilefacenet_model_best.pth.tar mobilefacenet_fermm.pth

Files are unpickled weights-only: a checkpoint that also pickles Python
objects (e.g. the training script's meters) is refused; re-save its
``state_dict`` in a trusted environment first.
"""

import argparse
import os
import os.path as osp
import sys
from typing import List, Mapping, Optional

import torch

from fer_mm.models.utils.poster_converter import (
    IncompleteCheckpointError,
    convert_ir50,
    convert_mobilefacenet,
    convert_poster_v2,
)
from fer_mm.utils import load_checkpoint_file

KINDS = ('auto', 'ir50', 'mobilefacenet', 'poster_v2')


def detect_kind(checkpoint: Mapping) -> str:
    """Guess the file kind from its key names."""
    state = checkpoint.get('state_dict', checkpoint)
    keys = [
        k[len('module.') :] if k.startswith('module.') else k for k in state
    ]
    if any(k.startswith(('ir_back.', 'face_landback.', 'VIT.')) for k in keys):
        return 'poster_v2'
    if any(k.startswith(('conv_23.', 'conv2_dw.')) for k in keys):
        return 'mobilefacenet'
    if any(k.startswith(('body1.', 'body.', 'input_layer.')) for k in keys):
        return 'ir50'
    raise ValueError(
        'cannot tell the checkpoint kind from its keys; pass --kind'
    )


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert POSTER V2 (Talented-Q/POSTER_V2) weights to '
        'fer_mm key names.'
    )
    parser.add_argument('src', help='reference checkpoint (local path)')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument(
        '--kind',
        choices=KINDS,
        default='auto',
        help='what the file holds (default: guessed from its keys)',
    )
    parser.add_argument(
        '--backbone-prefix',
        default='backbone.',
        help='prefix of the PosterV2 keys (poster_v2 only)',
    )
    parser.add_argument(
        '--head-prefix',
        default='head.',
        help='prefix of the LinearClsHead (poster_v2 only)',
    )
    parser.add_argument(
        '--no-head',
        action='store_true',
        help='drop the classifier (poster_v2 only; ARBEx uses the embedding)',
    )
    parser.add_argument(
        '--non-strict',
        action='store_true',
        help='write the file even if weights are missing',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    checkpoint = load_checkpoint_file(args.src, map_location='cpu')
    kind = detect_kind(checkpoint) if args.kind == 'auto' else args.kind
    if kind == 'poster_v2':
        head_prefix = None if args.no_head else args.head_prefix
        state, report = convert_poster_v2(
            checkpoint, args.backbone_prefix, head_prefix
        )
    elif kind == 'ir50':
        state, report = convert_ir50(checkpoint)
    else:
        state, report = convert_mobilefacenet(checkpoint)
    print(report.summary())
    try:
        report.check(strict=not args.non_strict, source=args.src)
    except IncompleteCheckpointError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    if osp.dirname(args.dst):
        os.makedirs(osp.dirname(args.dst), exist_ok=True)
    meta = dict(converted_from=osp.basename(args.src), kind=kind)
    torch.save(dict(state_dict=state, meta=meta), args.dst)
    print(f'Saved {len(state)} tensors to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

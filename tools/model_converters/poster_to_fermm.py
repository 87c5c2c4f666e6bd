# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Convert POSTER V2 reference weights to fer_mm's key layout.

Examples::

    # a released POSTER V2 checkpoint -> a FERClassifier checkpoint
    # (backbone.* = PosterV2, head.fc.* = LinearClsHead), usable as load_from
    python tools/model_converters/poster_to_fermm.py \\
        raf-db-model_best.pth work_dirs/posterv2_rafdb_fermm.pth

    # the stream weights (for PosterV2's
    # ir50_init_cfg / landmark_init_cfg = dict(type="Pretrained", ...))
    python tools/model_converters/poster_to_fermm.py ir50.pth ir50_fermm.pth
    python tools/model_converters/poster_to_fermm.py \\
        mobilefacenet_model_best.pth.tar mobilefacenet_fermm.pth

    # put the classifier rows into fer_mm's RAF-DB order: the reference's
    # class i is the i-th sorted class-folder name of its ImageFolder tree
    python tools/model_converters/poster_to_fermm.py \
        raf-db-model_best.pth work_dirs/posterv2_rafdb_fermm.pth \
        --class-order rafdb-label-folders --target-order rafdb
    # ... or from the folder names themselves
    python tools/model_converters/poster_to_fermm.py \
        affectnet-7-model_best.pth out.pth \
        --class-order angry,disgust,fear,happy,neutral,sad,surprise \
        --target-order affectnet7

Without ``--class-order`` the classifier rows keep the checkpoint's order
(a note says so). Presets (``fer_mm.models.utils.poster_converter``):
``rafdb-label-folders`` (folders 1..7 = RAF-DB labels, the layout users report
for the released RAF-DB checkpoint), ``affectnet7-id-folders`` /
``affectnet8-id-folders`` (folders 0..6 / 0..7 = AffectNet ids),
``alphabetical7`` / ``alphabetical8`` (English names, sorted).

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
    CLASS_ORDER_PRESETS,
    TARGET_ORDERS,
    IncompleteCheckpointError,
    convert_ir50,
    convert_mobilefacenet,
    convert_poster_v2,
    permute_classifier_rows,
    resolve_class_order,
)
from fer_mm.utils import load_checkpoint_file

KINDS = ('auto', 'ir50', 'mobilefacenet', 'poster_v2')


#: Key prefixes of the files ARBEx's reference (takihasan/ARBEx train.py)
#: saves: ``vit.*.pth`` (its own PosterV2 re-implementation), and
#: ``classifier.*.pth`` / ``anchors.*.pth`` (its MLP head and anchors).
ARBEX_PREFIXES = (
    'ir.net_1.',
    'landmark.',
    'window_module.',
    'attns.',
    'ffns.',
    'embs.',
    'vit.blocks.',
)
ARBEX_UNSUPPORTED = (
    'is a weight file of the ARBEx reference (takihasan/ARBEx), not of '
    'POSTER V2: its feature extractor file (vit.*.pth) uses that '
    "repository's own PosterV2 layout (ir.net_1/net_2/net_3, landmark.path_N, "
    'window_module, attns, ffns, embs, vit.*) and its head files hold the '
    'primary MLP (classifier.*.pth, net.N) and the anchors (anchors.*.pth). '
    'Convert them with tools/model_converters/arbex_to_fermm.py VIT DST '
    '--classifier CLASSIFIER --anchors ANCHORS; train.py never saves the '
    'self-attention module, which therefore starts fresh.'
)


class UnsupportedCheckpointError(ValueError):
    """A checkpoint of a known kind that cannot be converted."""


def detect_kind(checkpoint: Mapping) -> str:
    """Guess the file kind from its key names."""
    state = checkpoint.get('state_dict', checkpoint)
    keys = [
        k[len('module.') :] if k.startswith('module.') else k for k in state
    ]
    arbex_head = keys and (
        set(keys) == {'anchors'} or all(k.startswith('net.') for k in keys)
    )
    if arbex_head or sum(k.startswith(ARBEX_PREFIXES) for k in keys) > 2:
        raise UnsupportedCheckpointError(ARBEX_UNSUPPORTED)
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
        '--class-order',
        default=None,
        help='class of each classifier row in the checkpoint: a preset '
        f'({", ".join(CLASS_ORDER_PRESETS)}) or comma-separated names in '
        'the sorted order of the class folders the model was trained on '
        '(poster_v2 only)',
    )
    parser.add_argument(
        '--target-order',
        default=None,
        help='wanted row order: a fer_mm vocabulary '
        f'({", ".join(TARGET_ORDERS)}) or comma-separated names '
        '(default: rafdb for 7 rows, affectnet8 for 8)',
    )
    parser.add_argument(
        '--non-strict',
        action='store_true',
        help='write the file even if weights are missing',
    )
    return parser.parse_args(argv)


def reorder_classes(state, args: argparse.Namespace, meta: dict):
    """Apply ``--class-order`` / ``--target-order`` to the classifier."""
    weight = state.get(args.head_prefix + 'fc.weight')
    if weight is None:
        return state
    if args.class_order is None:
        print(
            'note: classifier rows keep the checkpoint order (the sorted '
            'class-folder names of its training tree); pass --class-order '
            'to put them in a fer_mm vocabulary'
        )
        return state
    num = weight.shape[0]
    src = resolve_class_order(args.class_order)
    target = args.target_order or {7: 'rafdb', 8: 'affectnet8'}.get(num)
    if target is None:
        raise ValueError(f'{num} classes: pass --target-order')
    dst = resolve_class_order(target, TARGET_ORDERS)
    state, rows = permute_classifier_rows(state, args.head_prefix, src, dst)
    print(f'classifier rows reordered {list(src)} -> {list(dst)}: {rows}')
    meta.update(classes=list(dst), source_class_order=list(src))
    return state


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    checkpoint = load_checkpoint_file(args.src, map_location='cpu')
    try:
        kind = detect_kind(checkpoint) if args.kind == 'auto' else args.kind
    except UnsupportedCheckpointError as err:
        print(f'error: {args.src} {err}', file=sys.stderr)
        return 2
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
    meta = dict(converted_from=osp.basename(args.src), kind=kind)
    if kind == 'poster_v2' and not args.no_head:
        try:
            state = reorder_classes(state, args, meta)
        except (KeyError, ValueError) as err:
            print(f'error: {args.src}: {err}', file=sys.stderr)
            return 1
    if osp.dirname(args.dst):
        os.makedirs(osp.dirname(args.dst), exist_ok=True)
    torch.save(dict(state_dict=state, meta=meta), args.dst)
    print(f'Saved {len(state)} tensors to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

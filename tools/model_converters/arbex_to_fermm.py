# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Convert the ARBEx reference's weight files to a fer_mm checkpoint.

The reference (``takihasan/ARBEx`` ``arbex/train.py``) saves
``vit.<iter>.pth`` (its PosterV2), ``classifier.<iter>.pth`` (the primary
MLP) and ``anchors.<iter>.pth``. The result holds ``backbone.*``
(:class:`PosterV2`) and ``head.*`` (:class:`ARBExHead`) keys, usable as
``load_from`` with ``configs/arbex/arbex_rafdb.py``-style configs::

    python tools/model_converters/arbex_to_fermm.py vit.best.5000.pth \\
        work_dirs/arbex_fermm.pth \\
        --classifier classifier.best.5000.pth --anchors anchors.best.5000.pth

What cannot be converted, and why:

* the self-attention module: ``train.py`` never saves it, so the head's
  ``attn_q`` / ``attn_k`` / ``attn_v`` / ``attn`` start fresh (the report
  lists them); with ``test_mode='primary'`` (the reference's evaluation)
  they are not used at all;
* a classifier trained with ``--use-batch-norm False`` (its layers are
  numbered differently; ``ARBExHead`` always has BatchNorm1d): refused.

Files are unpickled weights-only. Missing weights (other than the
attention) stop the conversion unless ``--non-strict``.
"""

import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

import torch

from fer_mm.models.utils.arbex_converter import (
    convert_arbex_head,
    convert_arbex_vit,
)
from fer_mm.models.utils.poster_converter import (
    IncompleteCheckpointError,
    _source_state_dict,
)
from fer_mm.utils import load_checkpoint_file


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert ARBEx (takihasan/ARBEx) weight files to fer_mm'
    )
    parser.add_argument('vit', help='the vit.<iter>.pth file (PosterV2)')
    parser.add_argument('dst', help='output checkpoint')
    parser.add_argument('--classifier', help='the classifier.<iter>.pth file')
    parser.add_argument('--anchors', help='the anchors.<iter>.pth file')
    parser.add_argument(
        '--non-strict',
        action='store_true',
        help='write the file even if weights are missing',
    )
    return parser.parse_args(argv)


def head_shape(classifier: dict, anchors: Optional[dict]) -> dict:
    """ARBExHead arguments read off the reference files."""
    linears = sorted(
        int(k.split('.')[1])
        for k, v in classifier.items()
        if k.startswith('net.') and k.endswith('.weight') and v.ndim == 2
    )
    if not linears:
        raise ValueError('the classifier file holds no net.N Linear weights')
    has_bn = any(k.endswith('running_mean') for k in classifier)
    if len(linears) > 1 and not has_bn:
        raise ValueError(
            'the classifier was trained without BatchNorm '
            '(--use-batch-norm False): its layers are numbered differently '
            'and ARBExHead always has BatchNorm1d; not supported'
        )
    weights = [classifier[f'net.{i}.weight'] for i in linears]
    args = dict(
        num_classes=int(weights[-1].shape[0]),
        in_channels=int(weights[0].shape[1]),
        hidden_channels=tuple(int(w.shape[0]) for w in weights[:-1]),
    )
    if anchors is not None:
        args['num_anchors'] = int(anchors['anchors'].shape[1])
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from mmpretrain.registry import MODELS

    import fer_mm  # noqa: F401

    state, report = convert_arbex_vit(
        load_checkpoint_file(args.vit, map_location='cpu')
    )
    reports = [(args.vit, report)]
    if args.classifier:
        classifier = _source_state_dict(
            load_checkpoint_file(args.classifier, map_location='cpu')
        )
        anchors = (
            _source_state_dict(
                load_checkpoint_file(args.anchors, map_location='cpu')
            )
            if args.anchors
            else None
        )
        try:
            shape = head_shape(classifier, anchors)
        except ValueError as err:
            print(f'error: {args.classifier}: {err}', file=sys.stderr)
            return 2
        with torch.device('meta'):
            head = MODELS.build(dict(type='ARBExHead', **shape))
        keys = ['head.' + k for k in head.state_dict()]
        head_state, head_report = convert_arbex_head(classifier, anchors, keys)
        state.update(head_state)
        reports.append((args.classifier, head_report))
    failed = False
    for src, rep in reports:
        print(rep.summary())
        fresh = [d for d in rep.dropped if 'not saved' in d]
        if fresh:
            print(
                f'  not in the reference files (initialised fresh): '
                f'{len(fresh)} keys of the self-attention'
            )
        try:
            rep.check(strict=not args.non_strict, source=src)
        except IncompleteCheckpointError as err:
            print(f'error: {err}', file=sys.stderr)
            failed = True
    if failed:
        return 1
    if osp.dirname(args.dst):
        os.makedirs(osp.dirname(args.dst), exist_ok=True)
    meta = dict(
        converted_from=[osp.basename(s) for s, _ in reports], kind='arbex'
    )
    torch.save(dict(state_dict=state, meta=meta), args.dst)
    print(f'Saved {len(state)} tensors to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

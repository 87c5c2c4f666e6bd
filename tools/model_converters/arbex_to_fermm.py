# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Convert the ARBEx reference's weight files to a fer_mm checkpoint.

The reference (``takihasan/ARBEx`` ``arbex/train.py``) saves
``vit.<iter>.pth`` (its PosterV2), ``classifier.<iter>.pth`` (the primary
MLP) and ``anchors.<iter>.pth``. The result holds ``backbone.*``
(:class:`PosterV2`) and ``head.*`` (:class:`ARBExHead`) keys, usable as
``load_from`` with ``configs/arbex/arbex_posterv2_8xb32-285e_rafdb.py``-style configs::

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

Key mapping
-----------

The ARBEx reference (GitHub ``takihasan/ARBEx``, ``arbex/train.py``) saves
three files per checkpoint:

* ``vit.<iter>.pth``: its own re-implementation of POSTER V2
  (``arbex/models/poster.py``): ``ir.*`` (``ir.py``: ``input_layer``,
  ``net_1`` / ``net_2`` / ``net_3`` of ``net.N.res`` / ``net.N.shortcut``
  units), ``landmark.*`` (``mobilefacenet.py``: ``path_1`` / ``path_2`` /
  ``path_3``), ``conv``, ``convs.N``, ``window_module.N``, ``attns.N``,
  ``ffns.N``, ``embs.N`` and ``vit.*`` (``vit.py``);
* ``classifier.<iter>.pth``: the primary MLP (``head.py``: ``net.N``,
  Linear / ReLU / BatchNorm1d / Dropout per hidden layer, then Linear);
* ``anchors.<iter>.pth``: the anchors (``anchors``, C x K x D).

The self-attention module is never saved by ``train.py``: a converted
:class:`~fer_mm.models.ARBExHead` keeps freshly initialised ``attn_q`` /
``attn_k`` / ``attn_v`` / ``attn`` weights, which the report lists as *not
in the reference files* (not as missing). Conversions return ``(state_dict,
report)`` like ``poster_to_fermm.py``.
"""

import argparse
import os
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from fer_mm.utils import load_checkpoint_file

# The POSTER V2 converter, a sibling script, maps the parts both share.
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from poster_to_fermm import (  # noqa: E402
    ConversionReport,
    IncompleteCheckpointError,
    _convert,
    _expected_keys,
    _reference_names,
    _Rule,
    _source_state_dict,
)

StateDict = Dict[str, object]

_IR_UNIT = {
    'bn1': 'res.0',
    'conv1': 'res.1',
    'prelu': 'res.2',
    'conv2': 'res.3',
    'bn2': 'res.4',
    'downsample': 'shortcut',
}
_IR_STEM = {'conv': '0', 'bn': '1', 'activate': '2'}
_BLOCK = {'conv': '0', 'bn': '1', 'activate': '2'}
_DW_UNIT = {'expand_conv': '0', 'depthwise_conv': '1', 'linear_conv': '2'}
# fer_mm MobileFaceNet layer -> (path of unit 0, path of units 1..)
_MFN_LAYERS = {
    '1': ('path_1.2', 'path_1.3'),
    '2': ('path_2.0', 'path_2.1'),
    '3': ('path_3.0', 'path_3.1'),
}


def _ir(m: re.Match) -> str:
    return f'ir.net_{m["s"]}.net.{m["i"]}.{_IR_UNIT[m["u"]]}.{m["p"]}'


def _mfn_unit(m: re.Match) -> str:
    first, later = _MFN_LAYERS[m['l']]
    i = int(m['i'])
    unit = first if i == 0 else f'{later}.net.{i - 1}'
    return (
        f'landmark.{unit}.net.{_DW_UNIT[m["u"]]}.net.{_BLOCK[m["b"]]}.{m["p"]}'
    )


_VIT_LAYER = {
    'ln1': 'norm1',
    'attn.qkv': 'attn.qkv',
    'attn.proj': 'attn.proj',
    'ln2': 'norm2',
    'ffn.layers.0.0': 'mlp.fc1',
    'ffn.layers.1': 'mlp.fc2',
}
_FUSION = {
    'norm1': 'window_module.{n}.norm',
    'attn.kv': 'attns.{n}.qkv',
    'attn.proj': 'attns.{n}.linear',
    'norm2': 'ffns.{n}.norm',
    'ffn.layers.0.0': 'ffns.{n}.mlp.0',
    'ffn.layers.1': 'ffns.{n}.mlp.3',
}
_TOKEN_EMBEDS = {'0.0': 'embs.0.0', '0.1': 'embs.0.1', '1': 'embs.1'}

_VIT_RULES: List[_Rule] = [
    (
        r'ir50\.stem\.(?P<m>conv|bn|activate)\.(?P<p>.+)',
        lambda m: f'ir.input_layer.{_IR_STEM[m["m"]]}.{m["p"]}',
    ),
    (
        r'ir50\.layer(?P<s>\d)\.(?P<i>\d+)\.(?P<u>[a-z]+\d?)\.(?P<p>.+)',
        _ir,
    ),
    (
        r'landmark\.conv1\.(?P<b>conv|bn|activate)\.(?P<p>.+)',
        lambda m: f'landmark.path_1.0.net.{_BLOCK[m["b"]]}.{m["p"]}',
    ),
    (
        r'landmark\.conv2\.(?P<b>conv|bn|activate)\.(?P<p>.+)',
        lambda m: f'landmark.path_1.1.net.{_BLOCK[m["b"]]}.{m["p"]}',
    ),
    (
        r'landmark\.conv3\.(?P<b>conv|bn|activate)\.(?P<p>.+)',
        lambda m: f'landmark.path_3.2.net.{_BLOCK[m["b"]]}.{m["p"]}',
    ),
    (
        r'landmark\.layer(?P<l>\d)\.(?P<i>\d+)\.(?P<u>\w+_conv)\.'
        r'(?P<b>conv|bn|activate)\.(?P<p>.+)',
        _mfn_unit,
    ),
    (r'landmark_conv\.(?P<p>.+)', lambda m: f'conv.{m["p"]}'),
    (
        r'image_convs\.(?P<i>\d)\.(?P<p>.+)',
        lambda m: f'convs.{m["i"]}.{m["p"]}',
    ),
    (
        r'fusion_blocks\.(?P<i>\d)\.attn\.relative_position_bias_table',
        lambda m: f'attns.{m["i"]}.table',
    ),
    (
        r'fusion_blocks\.(?P<i>\d)\.gamma1\.weight',
        lambda m: f'ffns.{m["i"]}.gamma_1',
    ),
    (
        r'fusion_blocks\.(?P<i>\d)\.ffn\.gamma2\.weight',
        lambda m: f'ffns.{m["i"]}.gamma_2',
    ),
    (
        r'fusion_blocks\.(?P<i>\d)\.(?P<m>norm[12]|attn\.kv|attn\.proj|'
        r'ffn\.layers\.0\.0|ffn\.layers\.1)\.(?P<p>weight|bias)',
        lambda m: f'{_FUSION[m["m"]].format(n=m["i"])}.{m["p"]}',
    ),
    (
        r'token_embeds\.(?P<e>0\.[01]|1)\.(?P<p>weight|bias)',
        lambda m: f'{_TOKEN_EMBEDS[m["e"]]}.{m["p"]}',
    ),
    (
        r'token_embeds\.2\.(?P<p>weight|bias)',
        lambda m: f'embs.2.proj.{m["p"]}',
    ),
    (r'(?P<p>cls_token|pos_embed)', lambda m: f'vit.{m["p"]}'),
    (
        r'layers\.(?P<i>\d+)\.(?P<m>ln[12]|attn\.qkv|attn\.proj|'
        r'ffn\.layers\.0\.0|ffn\.layers\.1)\.(?P<p>weight|bias)',
        lambda m: f'vit.blocks.{m["i"]}.{_VIT_LAYER[m["m"]]}.{m["p"]}',
    ),
    (r'final_norm\.(?P<p>.+)', lambda m: f'vit.norm.{m["p"]}'),
    (
        r'se\.fc(?P<n>[12])\.(?P<p>weight|bias)',
        lambda m: f'vit.se_block.linear{m["n"]}.{m["p"]}',
    ),
]
# Built by the reference, never used in its forward pass.
_VIT_DROPPED = (
    r'attns\.\d\.index_relative',
    r'vit\.(patch_embed|CON1|IRLinear1|IRLinear2)\..*',
    r'vit\.blocks\.\d+\.conv\..*',
)
#: ARBExHead keys the reference never saves (its self-attention).
ATTENTION_KEYS = r'(attn_q|attn_k|attn_v|attn)\..*'


def convert_arbex_vit(
    checkpoint: Mapping,
    backbone_prefix: str = 'backbone.',
    expected_keys: Optional[Sequence[str]] = None,
) -> Tuple[StateDict, ConversionReport]:
    """Convert ARBEx's ``vit.*.pth`` (its PosterV2) to :class:`PosterV2`.

    Args:
        checkpoint (Mapping): The loaded file (``state_dict`` wrapper and
            ``module.`` prefix accepted).
        backbone_prefix (str): Prefix of the target keys. Defaults to
            ``'backbone.'``.
        expected_keys (Sequence[str], optional): Target keys. Defaults to
            those of ``PosterV2()`` with the prefix.

    Returns:
        tuple[dict, ConversionReport]: The state dict and the report.
    """
    from fer_mm.models.backbones.poster_v2 import PosterV2

    if expected_keys is None:
        expected_keys = [backbone_prefix + k for k in _expected_keys(PosterV2)]
    expected_keys = list(expected_keys)
    names = _reference_names(expected_keys, _VIT_RULES, backbone_prefix)
    return _convert(
        'arbex_vit',
        _source_state_dict(checkpoint),
        expected_keys,
        names,
        _VIT_DROPPED,
        backbone_prefix,
    )


def convert_arbex_head(
    classifier: Mapping,
    anchors: Optional[Mapping],
    head_keys: Sequence[str],
    head_prefix: str = 'head.',
) -> Tuple[StateDict, ConversionReport]:
    """Convert ARBEx's ``classifier.*.pth`` and ``anchors.*.pth``.

    The primary MLP keeps its layer indices (``net.N`` -> ``mlp.N``: the
    reference and :class:`ARBExHead` both order Linear, ReLU, BatchNorm1d,
    Dropout). The attention keys of ``head_keys`` are left out of
    ``missing`` and listed in ``report.dropped`` as *not saved by the
    reference*.

    Args:
        classifier (Mapping): The loaded ``classifier`` file.
        anchors (Mapping, optional): The loaded ``anchors`` file.
        head_keys (Sequence[str]): Keys of the target head (with prefix).
        head_prefix (str): Prefix of the head keys. Defaults to ``'head.'``.

    Returns:
        tuple[dict, ConversionReport]: The state dict and the report.
    """
    source = OrderedDict(_source_state_dict(classifier))
    if anchors is not None:
        source.update(_source_state_dict(anchors))
    wanted = [
        k
        for k in head_keys
        if not re.fullmatch(ATTENTION_KEYS, k[len(head_prefix) :])
    ]
    names = {}
    for key in wanted:
        local = key[len(head_prefix) :]
        if local.startswith('mlp.'):
            names[key] = 'net.' + local[len('mlp.') :]
        elif local == 'anchors':
            names[key] = 'anchors'
    state, report = _convert(
        'arbex_head', source, wanted, names, (), head_prefix
    )
    report.dropped += [
        f'{k} (not saved by the reference; initialised fresh)'
        for k in head_keys
        if k not in wanted
    ]
    return state, report


# ---------------------------------------------------------------------------
# Command line
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

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Map the ARBEx reference's weight files onto fer_mm's modules.

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
report)`` like :mod:`.poster_converter`.
"""

import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from .poster_converter import (
    ConversionReport,
    _convert,
    _expected_keys,
    _reference_names,
    _Rule,
    _source_state_dict,
)

__all__ = ['convert_arbex_vit', 'convert_arbex_head', 'ATTENTION_KEYS']

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

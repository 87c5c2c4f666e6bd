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
    python tools/model_converters/poster_to_fermm.py \\
        raf-db-model_best.pth work_dirs/posterv2_rafdb_fermm.pth \\
        --class-order rafdb-label-folders --target-order rafdb
    # ... or from the folder names themselves
    python tools/model_converters/poster_to_fermm.py \\
        affectnet-7-model_best.pth out.pth \\
        --class-order angry,disgust,fear,happy,neutral,sad,surprise \\
        --target-order affectnet7

Without ``--class-order`` the classifier rows keep the checkpoint's order
(a note says so). Presets (``CLASS_ORDER_PRESETS`` below):
``rafdb-label-folders`` (folders 1..7 = RAF-DB labels, the layout users report
for the released RAF-DB checkpoint), ``affectnet7-id-folders`` /
``affectnet8-id-folders`` (folders 0..6 / 0..7 = AffectNet ids),
``alphabetical7`` / ``alphabetical8`` (English names, sorted).

Files are unpickled weights-only: a checkpoint that also pickles Python
objects (e.g. the training script's meters) is refused; re-save its
``state_dict`` in a trusted environment first.

Key mapping
-----------

`POSTER V2 <https://arxiv.org/abs/2301.12149>`_ (GitHub
``Talented-Q/POSTER_V2``) users hold three kinds of files:

* ``ir50.pth``: IR-50 weights for ``models/ir50.py`` (``input_layer.*``,
  ``body1.*``, ``body2.*``, ``body3.*``; 292 tensors), or a face.evoLVe
  ``IR_50`` file whose units are numbered through ``body.0`` ...
  ``body.23``. The reference loader matches only the stem of the latter;
  here its first 3 + 4 + 14 units go to the three stages and the 4th
  stage (``body.21`` ... ``body.23``) is reported as unexpected.
* the MobileFaceNet landmark checkpoint (``models/mobilefacenet.py`` names,
  usually wrapped in ``state_dict``);
* released POSTER V2 checkpoints (``state_dict`` of the DataParallel
  model, ``module.`` prefix: ``face_landback.*``, ``ir_back.*``,
  ``attn1.*``, ``window1.*``, ``ffn1.*``, ``conv1.*``, ``embed_q.*``,
  ``VIT.*``, with the classifier at ``VIT.head.linear.*``).

Every converter returns ``(state_dict, report)``. The report lists the
matched, missing and unexpected keys, plus the *dropped* ones: weights of
modules the reference builds but never uses (IR-50's output layer, the
landmark regressor, dead ViT modules, the derived relative position index).
Keys already in fer_mm's layout pass through unchanged, so converted files
can be given to the same loaders.
"""

import argparse
import logging
import os
import os.path as osp
import re
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import (
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
)

import torch
import torch.nn as nn
from mmengine.logging import print_log

from fer_mm.datasets.categories import (
    AFFECTNET_CATEGORIES,
    RAFDB_CATEGORIES,
    canonical_name,
    label_mapping,
)
from fer_mm.utils import load_checkpoint_file

StateDict = Dict[str, torch.Tensor]


class IncompleteCheckpointError(RuntimeError):
    """A checkpoint lacks weights that the target module needs."""


@dataclass
class ConversionReport:
    """What a conversion did with each key.

    Attributes:
        kind (str): The converter (``'ir50'``, ``'mobilefacenet'`` or
            ``'poster_v2'``).
        matched (list[tuple[str, str]]): (source key, fer_mm key) pairs.
        missing (list[str]): fer_mm keys nothing was found for (BN
            ``num_batches_tracked`` counters excepted).
        unexpected (list[str]): Source keys with no place in the target.
        dropped (list[str]): Source keys of modules the reference builds but
            never uses; ignored on purpose.
        reference_names (dict[str, str]): fer_mm key -> reference key, for
            messages about missing keys.
        prefix (str): Prefix of the target module's keys (``'backbone.'``
            for a classifier); parts are named by the component after it.
    """

    kind: str
    matched: List[Tuple[str, str]] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    dropped: List[str] = field(default_factory=list)
    reference_names: Dict[str, str] = field(default_factory=dict)
    prefix: str = ''

    def missing_parts(self) -> Dict[str, List[str]]:
        """Missing keys grouped by top-level module (e.g. ``'layer3'``)."""
        parts: Dict[str, List[str]] = OrderedDict()
        for key in self.missing:
            prefix = self.prefix if key.startswith(self.prefix) else ''
            part = prefix + key[len(prefix) :].split('.')[0]
            parts.setdefault(part, []).append(key)
        return parts

    def summary(self) -> str:
        """A one-paragraph human-readable summary."""
        lines = [
            f'{self.kind}: {len(self.matched)} matched, '
            f'{len(self.missing)} missing, {len(self.unexpected)} '
            f'unexpected, {len(self.dropped)} dropped (unused by the '
            'reference model)'
        ]
        for part, keys in self.missing_parts().items():
            ref = self.reference_names.get(keys[0])
            ref = f' (reference key {ref!r})' if ref else ''
            lines.append(
                f'  missing part {part!r}: {len(keys)} keys, e.g. '
                f'{keys[0]!r}{ref}'
            )
        if self.unexpected:
            shown = ', '.join(self.unexpected[:5])
            more = len(self.unexpected) - 5
            lines.append(
                f'  unexpected: {shown}'
                + (f' (+{more} more)' if more > 0 else '')
            )
        return '\n'.join(lines)

    def check(self, strict: bool = True, source: str = '') -> None:
        """Raise :class:`IncompleteCheckpointError` if keys are missing.

        Args:
            strict (bool): Only warn (through the logger) when False.
                Defaults to True.
            source (str): The file name, for the message. Defaults to ''.
        """
        if not self.missing:
            return
        where = f' {source}' if source else ''
        msg = (
            f'The {self.kind} checkpoint{where} does not cover the model:\n'
            f'{self.summary()}'
        )
        if strict:
            raise IncompleteCheckpointError(
                msg + '\n(pass strict=False to load it partially)'
            )
        print_log(msg, logger='current', level=logging.WARNING)


# ---------------------------------------------------------------------------
# fer_mm key -> reference key, one rule list per module family. The first
# matching rule wins; ``{n}`` placeholders are filled from named groups.

_Rule = Tuple[str, Callable[[re.Match], str]]


def _rename(rules: Sequence[_Rule], key: str) -> Optional[str]:
    for pattern, repl in rules:
        m = re.fullmatch(pattern, key)
        if m:
            return repl(m)
    return None


_IR50_UNIT = {
    'bn1': 'res_layer.0',
    'conv1': 'res_layer.1',
    'prelu': 'res_layer.2',
    'conv2': 'res_layer.3',
    'bn2': 'res_layer.4',
    'downsample': 'shortcut_layer',
}
_IR50_STEM = {'conv': '0', 'bn': '1', 'activate': '2'}

_IR50_RULES: List[_Rule] = [
    (
        r'stem\.(?P<m>conv|bn|activate)\.(?P<p>.+)',
        lambda m: f'input_layer.{_IR50_STEM[m["m"]]}.{m["p"]}',
    ),
    (
        r'layer(?P<s>\d)\.(?P<i>\d+)\.(?P<m>[a-z]+\d?)\.(?P<p>.+)',
        lambda m: f'body{m["s"]}.{m["i"]}.{_IR50_UNIT[m["m"]]}.{m["p"]}',
    ),
]

# ConvModule's activation is called ``prelu`` in the reference.
_CONV_BLOCK = r'(?P<b>conv|bn|activate)\.(?P<p>.+)'
_MFN_UNIT = {
    'expand_conv': 'conv',
    'depthwise_conv': 'conv_dw',
    'linear_conv': 'project',
}
# (first unit, later units) of each MobileFaceNet layer.
_MFN_LAYERS = {
    '1': ('conv_23', 'conv_3'),
    '2': ('conv_34', 'conv_4'),
    '3': ('conv_45', 'conv_5'),
}


def _conv_block(m: re.Match) -> str:
    block = 'prelu' if m['b'] == 'activate' else m['b']
    return f'{block}.{m["p"]}'


def _mfn_unit(m: re.Match) -> str:
    first, later = _MFN_LAYERS[m['l']]
    i = int(m['i'])
    unit = first if i == 0 else f'{later}.model.{i - 1}'
    return f'{unit}.{_MFN_UNIT[m["u"]]}.{_conv_block(m)}'


_MFN_RULES: List[_Rule] = [
    (r'conv1\.' + _CONV_BLOCK, lambda m: 'conv1.' + _conv_block(m)),
    (r'conv2\.' + _CONV_BLOCK, lambda m: 'conv2_dw.' + _conv_block(m)),
    (r'conv3\.' + _CONV_BLOCK, lambda m: 'conv_6_sep.' + _conv_block(m)),
    (
        r'layer(?P<l>\d)\.(?P<i>\d+)\.(?P<u>\w+_conv)\.' + _CONV_BLOCK,
        _mfn_unit,
    ),
]

_FFN = {'layers.0.0': 'mlp.fc1', 'layers.1': 'mlp.fc2'}
_FUSION = {
    'norm1': 'window{n}.norm',
    'attn.kv': 'attn{n}.qkv',
    'attn.proj': 'attn{n}.proj',
    'norm2': 'ffn{n}.norm',
    'ffn.layers.0.0': 'ffn{n}.mlp.fc1',
    'ffn.layers.1': 'ffn{n}.mlp.fc2',
}
_VIT_LAYER = {
    'ln1': 'norm1',
    'attn.qkv': 'attn.qkv',
    'attn.proj': 'attn.proj',
    'ln2': 'norm2',
    'ffn.layers.0.0': 'mlp.fc1',
    'ffn.layers.1': 'mlp.fc2',
}
_TOKEN_EMBEDS = {
    '0.0': 'embed_q.0',
    '0.1': 'embed_q.1',
    '1': 'embed_k.0',
    '2': 'embed_v.proj',
}


def _fusion(m: re.Match) -> str:
    n = int(m['i']) + 1
    return f'{_FUSION[m["m"]].format(n=n)}.{m["p"]}'


_POSTER_RULES: List[_Rule] = [
    (
        r'ir50\.(?P<k>.+)',
        lambda m: 'ir_back.' + _rename(_IR50_RULES, m['k']),
    ),
    (
        r'landmark\.(?P<k>.+)',
        lambda m: 'face_landback.' + _rename(_MFN_RULES, m['k']),
    ),
    (r'landmark_conv\.(?P<p>.+)', lambda m: f'last_face_conv.{m["p"]}'),
    (
        r'image_convs\.(?P<i>\d)\.(?P<p>.+)',
        lambda m: f'conv{int(m["i"]) + 1}.{m["p"]}',
    ),
    (
        r'fusion_blocks\.(?P<i>\d)\.attn\.relative_position_bias_table',
        lambda m: f'attn{int(m["i"]) + 1}.relative_position_bias_table',
    ),
    (
        r'fusion_blocks\.(?P<i>\d)\.(?:ffn\.)?gamma(?P<g>[12])\.weight',
        lambda m: f'ffn{int(m["i"]) + 1}.gamma{m["g"]}',
    ),
    (
        r'fusion_blocks\.(?P<i>\d)\.(?P<m>norm[12]|attn\.kv|attn\.proj|'
        r'ffn\.layers\.0\.0|ffn\.layers\.1)\.(?P<p>weight|bias)',
        _fusion,
    ),
    (
        r'token_embeds\.(?P<e>0\.[01]|[12])\.(?P<p>weight|bias)',
        lambda m: f'{_TOKEN_EMBEDS[m["e"]]}.{m["p"]}',
    ),
    (r'(?P<p>cls_token|pos_embed)', lambda m: f'VIT.{m["p"]}'),
    (
        r'layers\.(?P<i>\d+)\.(?P<m>ln[12]|attn\.qkv|attn\.proj|'
        r'ffn\.layers\.0\.0|ffn\.layers\.1)\.(?P<p>weight|bias)',
        lambda m: f'VIT.blocks.{m["i"]}.{_VIT_LAYER[m["m"]]}.{m["p"]}',
    ),
    (r'final_norm\.(?P<p>.+)', lambda m: f'VIT.norm.{m["p"]}'),
    (
        r'se\.fc(?P<n>[12])\.(?P<p>weight|bias)',
        lambda m: f'VIT.se_block.linear{m["n"]}.{m["p"]}',
    ),
]
_HEAD_RULES: List[_Rule] = [
    (r'fc\.(?P<p>weight|bias)', lambda m: f'VIT.head.linear.{m["p"]}'),
]

# Reference modules that exist in the files but never reach the output.
_IR50_DROPPED = (r'output_layer\..*',)
_MFN_DROPPED = (r'output_layer\..*',)  # the 136-d landmark regressor (GDC)
_POSTER_DROPPED = (
    r'ir_back\.output_layer\..*',
    r'face_landback\.output_layer\..*',
    r'attn\d\.relative_position_index',
    r'VIT\.(patch_embed|eca_block|CON1|IRLinear1|IRLinear2)\..*',
    r'VIT\.blocks\.\d+\.conv\..*',
    r'VIT\.dist_token',
)


# ---------------------------------------------------------------------------
def _source_state_dict(checkpoint: Mapping) -> StateDict:
    """Unwrap ``state_dict`` and strip DataParallel's ``module.``."""
    state = checkpoint
    if isinstance(state, Mapping) and isinstance(
        state.get('state_dict'), Mapping
    ):
        state = state['state_dict']
    if not isinstance(state, Mapping):
        raise TypeError(f'expected a state dict, got {type(state).__name__}')
    out = OrderedDict()
    for key, value in state.items():
        if key.startswith('module.'):
            key = key[len('module.') :]
        out[key] = value
    return out


def _evolve_to_split(
    state: StateDict, stage_blocks: Sequence[int] = (3, 4, 14)
) -> StateDict:
    """Rename face.evoLVe's ``body.N`` units to ``body{s}.{i}``.

    Units past the three stages (IR-50's 4th stage) keep their name and end
    up unexpected.
    """
    bounds = []
    start = 0
    for stage, num in enumerate(stage_blocks, start=1):
        bounds.append((stage, start, start + num))
        start += num
    out = OrderedDict()
    for key, value in state.items():
        m = re.match(r'body\.(\d+)\.(.*)', key)
        if m:
            n = int(m[1])
            for stage, lo, hi in bounds:
                if lo <= n < hi:
                    key = f'body{stage}.{n - lo}.{m[2]}'
                    break
        out[key] = value
    return out


def _expected_keys(module_fn: Callable[[], nn.Module]) -> List[str]:
    # Built on the meta device: only the key names are needed.
    with torch.device('meta'):
        return list(module_fn().state_dict().keys())


def _convert(
    kind: str,
    source: StateDict,
    expected: Iterable[str],
    reference_names: Dict[str, str],
    dropped_patterns: Sequence[str],
    prefix: str = '',
) -> Tuple[StateDict, ConversionReport]:
    expected = list(expected)
    expected_set = set(expected)
    to_target = {ref: key for key, ref in reference_names.items()}
    report = ConversionReport(
        kind, reference_names=reference_names, prefix=prefix
    )
    out: StateDict = OrderedDict()
    for key, value in source.items():
        target = to_target.get(key)
        if target is None and key in expected_set:
            target = key  # already in fer_mm's layout
        if target is not None and target not in out:
            out[target] = value
            report.matched.append((key, target))
        elif any(re.fullmatch(p, key) for p in dropped_patterns):
            report.dropped.append(key)
        else:
            report.unexpected.append(key)
    report.missing = [
        k
        for k in expected
        if k not in out and not k.endswith('num_batches_tracked')
    ]
    return out, report


def _reference_names(
    expected: Iterable[str], rules: Sequence[_Rule], prefix: str = ''
) -> Dict[str, str]:
    names = {}
    for key in expected:
        if not key.startswith(prefix):
            continue
        ref = _rename(rules, key[len(prefix) :])
        if ref is None:
            raise KeyError(f'no reference name known for {key!r}')
        names[key] = ref
    return names


def convert_ir50(
    checkpoint: Mapping, expected_keys: Optional[Iterable[str]] = None
) -> Tuple[StateDict, ConversionReport]:
    """Convert IR-50 weights (POSTER V2 or face.evoLVe layout).

    Args:
        checkpoint (Mapping): The loaded file: a state dict, possibly
            wrapped in ``state_dict`` and prefixed with ``module.``.
        expected_keys (Iterable[str], optional): Keys of the target
            :class:`~fer_mm.models.IR50`. Defaults to those of ``IR50()``.

    Returns:
        tuple[dict, ConversionReport]: The state dict for ``IR50`` and the
        report.
    """
    from fer_mm.models.backbones.ir50 import IR50

    if expected_keys is None:
        expected_keys = _expected_keys(IR50)
    expected_keys = list(expected_keys)
    source = _evolve_to_split(_source_state_dict(checkpoint))
    names = _reference_names(expected_keys, _IR50_RULES)
    return _convert('ir50', source, expected_keys, names, _IR50_DROPPED)


def convert_mobilefacenet(
    checkpoint: Mapping, expected_keys: Optional[Iterable[str]] = None
) -> Tuple[StateDict, ConversionReport]:
    """Convert the MobileFaceNet landmark checkpoint.

    Args:
        checkpoint (Mapping): The loaded file (``state_dict`` wrapper and
            ``module.`` prefix are accepted).
        expected_keys (Iterable[str], optional): Keys of the target
            :class:`~fer_mm.models.MobileFaceNet`. Defaults to those of
            ``MobileFaceNet()``.

    Returns:
        tuple[dict, ConversionReport]: The state dict and the report.
    """
    from fer_mm.models.backbones.mobilefacenet import MobileFaceNet

    if expected_keys is None:
        expected_keys = _expected_keys(MobileFaceNet)
    expected_keys = list(expected_keys)
    source = _source_state_dict(checkpoint)
    names = _reference_names(expected_keys, _MFN_RULES)
    return _convert(
        'mobilefacenet', source, expected_keys, names, _MFN_DROPPED
    )


def convert_poster_v2(
    checkpoint: Mapping,
    backbone_prefix: str = 'backbone.',
    head_prefix: Optional[str] = 'head.',
    expected_keys: Optional[Iterable[str]] = None,
) -> Tuple[StateDict, ConversionReport]:
    """Convert a released POSTER V2 checkpoint.

    The default prefixes give the keys of an mmpretrain ``ImageClassifier``
    (or ``FERClassifier``) with a ``PosterV2`` backbone and a
    ``LinearClsHead`` (``head.fc.*``).

    Args:
        checkpoint (Mapping): The loaded file (``state_dict`` wrapper and
            ``module.`` prefix are accepted).
        backbone_prefix (str): Prefix of the backbone keys.
            Defaults to ``'backbone.'``.
        head_prefix (str, optional): Prefix of the ``LinearClsHead``; its
            ``fc`` gets ``VIT.head.linear``. None drops the classifier (for
            ARBEx, which uses the embedding). Defaults to ``'head.'``.
        expected_keys (Iterable[str], optional): Target keys. Defaults to
            those of ``PosterV2()`` (prefixed) plus the head's ``fc``.

    Returns:
        tuple[dict, ConversionReport]: The state dict and the report.
    """
    from fer_mm.models.backbones.poster_v2 import PosterV2

    if expected_keys is None:
        expected_keys = [backbone_prefix + k for k in _expected_keys(PosterV2)]
        if head_prefix is not None:
            expected_keys += [
                head_prefix + 'fc.weight',
                head_prefix + 'fc.bias',
            ]
    expected_keys = list(expected_keys)
    dropped = list(_POSTER_DROPPED)
    head_keys = []
    if head_prefix is not None:
        head_keys = [k for k in expected_keys if k.startswith(head_prefix)]
    else:
        dropped.append(r'VIT\.head\..*')
    names = _reference_names(
        [k for k in expected_keys if k not in head_keys],
        _POSTER_RULES,
        backbone_prefix,
    )
    names.update(_reference_names(head_keys, _HEAD_RULES, head_prefix or ''))
    unknown = [k for k in expected_keys if k not in names]
    if unknown:
        raise KeyError(f'no reference name known for {unknown[:3]}')
    source = _source_state_dict(checkpoint)
    return _convert(
        'poster_v2', source, expected_keys, names, dropped, backbone_prefix
    )


CONVERTERS = {
    'ir50': convert_ir50,
    'mobilefacenet': convert_mobilefacenet,
    'poster_v2': convert_poster_v2,
}


def load_poster_part(
    module: nn.Module,
    filename: str,
    kind: str,
    strict: bool = True,
    logger: str = 'current',
) -> ConversionReport:
    """Load a reference checkpoint into a fer_mm module, weights-only.

    Args:
        module (nn.Module): The target, e.g. ``PosterV2.ir50``.
        filename (str): Local path of the checkpoint; it is unpickled with
            :func:`fer_mm.utils.load_checkpoint_file` (no code can run).
        kind (str): ``'ir50'``, ``'mobilefacenet'`` or ``'poster_v2'`` (the
            last for a whole ``PosterV2`` backbone without prefix or head).
        strict (bool): Raise :class:`IncompleteCheckpointError` naming the
            missing parts when the file does not cover ``module``; when
            False, load what there is and warn. Defaults to True.
        logger (str): Where to report. Defaults to ``'current'``.

    Returns:
        ConversionReport: The report of the conversion.
    """
    if kind not in CONVERTERS:
        raise ValueError(
            f'kind must be one of {list(CONVERTERS)}, got {kind!r}'
        )
    checkpoint = load_checkpoint_file(filename, map_location='cpu')
    expected = list(module.state_dict().keys())
    if kind == 'poster_v2':
        state, report = convert_poster_v2(
            checkpoint, '', None, expected_keys=expected
        )
    else:
        state, report = CONVERTERS[kind](checkpoint, expected_keys=expected)
    report.check(strict=strict, source=filename)
    # BN counters absent from old files are filled in by BatchNorm itself.
    module.load_state_dict(state, strict=strict)
    print_log(f'Loaded {filename}: {report.summary()}', logger=logger)
    return report


# ---------------------------------------------------------------------------
# Class order of released classifiers.
#
# The reference trains on ``torchvision.datasets.ImageFolder``: class i is
# the i-th of the *sorted* class-folder names, whatever the dataset's label
# numbers are. The reference does not document its folder names (its README
# shows a flat folder that ImageFolder cannot read; GitHub issues #7 and #25
# ask for it). The presets name the layouts in use:

#: name -> class names in the order of the sorted folder names.
CLASS_ORDER_PRESETS = {
    # folders '1'..'7' = RAF-DB's label numbers (the layout users report
    # working with the reference, POSTER_V2 issue #25): sorted '1' < ... <
    # '7' is RAF-DB's own order, i.e. fer_mm's RAFDB order.
    'rafdb-label-folders': RAFDB_CATEGORIES,
    # folders '0'..'6' / '0'..'7' = AffectNet expression ids (the usual
    # AffectNet layout; fer_mm's AffectNet vocabulary).
    'affectnet7-id-folders': AFFECTNET_CATEGORIES[:7],
    'affectnet8-id-folders': AFFECTNET_CATEGORIES,
    # folders named by English expression (angry, disgust, fear, happy,
    # neutral, sad, surprise [, contempt]), sorted alphabetically.
    'alphabetical7': (
        'Anger',
        'Disgust',
        'Fear',
        'Happiness',
        'Neutral',
        'Sadness',
        'Surprise',
    ),  # fmt: skip
    'alphabetical8': (
        'Anger',
        'Contempt',
        'Disgust',
        'Fear',
        'Happiness',
        'Neutral',
        'Sadness',
        'Surprise',
    ),  # fmt: skip
}
#: fer_mm vocabularies a converted classifier can be put in.
TARGET_ORDERS = {
    'rafdb': RAFDB_CATEGORIES,
    'affectnet7': AFFECTNET_CATEGORIES[:7],
    'affectnet8': AFFECTNET_CATEGORIES,
}


def resolve_class_order(spec, presets: Mapping = CLASS_ORDER_PRESETS):
    """Class names from a preset name or a comma-separated list of names.

    Args:
        spec (str | Sequence[str]): A key of ``presets`` or names (any
            spelling :func:`fer_mm.datasets.categories.canonical_name`
            knows, e.g. ``'surprise,fear,disgust,happy,sad,angry,neutral'``).
        presets (Mapping): Known presets. Defaults to
            :data:`CLASS_ORDER_PRESETS`.

    Returns:
        tuple[str]: Canonical class names.
    """
    if isinstance(spec, str):
        if spec in presets:
            return tuple(presets[spec])
        names = [n for n in spec.split(',') if n.strip()]
        if len(names) < 2:
            raise ValueError(
                f'class order {spec!r} is neither a preset '
                f'({", ".join(presets)}) nor a comma-separated list of names'
            )
    else:
        names = list(spec)
    canonical = tuple(canonical_name(n) for n in names)
    if len(set(canonical)) != len(canonical):
        raise ValueError(f'class order {spec!r} repeats a class')
    return canonical


def permute_classifier_rows(
    state: StateDict,
    head_prefix: str,
    src_classes,
    dst_classes,
) -> Tuple[StateDict, List[int]]:
    """Reorder the rows of a linear classifier into another class order.

    Row ``j`` of the result is the row of class ``dst_classes[j]`` in the
    source, matched by canonical name (never by index).

    Args:
        state (dict): A converted state dict with ``{head_prefix}fc.weight``
            and ``{head_prefix}fc.bias``.
        head_prefix (str): Prefix of the head, e.g. ``'head.'``.
        src_classes (Sequence[str]): Class of each row in the checkpoint.
        dst_classes (Sequence[str]): The wanted order.

    Returns:
        tuple[dict, list[int]]: The new state dict and ``rows``, the source
        row of each output row.
    """
    keys = [head_prefix + 'fc.weight', head_prefix + 'fc.bias']
    missing = [k for k in keys if k not in state]
    if missing:
        raise KeyError(f'no classifier to permute: {missing} not found')
    num_rows = state[keys[0]].shape[0]
    if not len(src_classes) == len(dst_classes) == num_rows:
        raise ValueError(
            f'the classifier has {num_rows} rows but the class orders name '
            f'{len(src_classes)} (checkpoint) and {len(dst_classes)} (target) '
            'classes'
        )
    rows = label_mapping(dst_classes, src_classes, strict=True).tolist()
    out = OrderedDict(state)
    for key in keys:
        out[key] = state[key][rows].clone()
    return out, rows


# ---------------------------------------------------------------------------
# Command line
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

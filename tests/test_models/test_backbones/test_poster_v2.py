# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""PosterV2 backbone and the converters of the reference's weights.

Reference key names and shapes below are written from the reference source
(``Talented-Q/POSTER_V2``: ``models/ir50.py``, ``models/mobilefacenet.py``,
``models/PosterV2_7cls.py``, ``models/vit_model.py``), independently of the
converter's rules.
"""

import os.path as osp
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

import fer_mm  # noqa: F401
from fer_mm.models import IR50, MobileFaceNet, WindowCrossAttentionBlock
from fer_mm.utils import UnsafeCheckpointError, load_checkpoint_file
from tests.helpers.tools import load_tool

converter = load_tool('tools/model_converters/poster_to_fermm.py')
IncompleteCheckpointError = converter.IncompleteCheckpointError
convert_ir50 = converter.convert_ir50
convert_mobilefacenet = converter.convert_mobilefacenet
convert_poster_v2 = converter.convert_poster_v2
load_poster_part = converter.load_poster_part

# Used parameters of the 7-class POSTER V2 (backbone + Linear 768 -> 7).
NUM_PARAMS = 43_753_941
NUM_PARAMS_PARTS = dict(
    ir50=17_611_968,
    landmark=911_232,
    landmark_conv=1_179_904,
    image_convs=774_592,
    fusion_blocks=962_766,
    token_embeds=6_835_200,
    layers=14_175_744,
    final_norm=1_536,
    se=1_181_184,
)


def num_params(module):
    return sum(p.numel() for p in module.parameters())


# --------------------------------------------------------------------------
# Reference state dicts (names and shapes of the reference modules)


def conv_weight(cout, cin, k):
    # He-like scale: keeps a forward pass through random weights finite.
    return torch.randn(cout, cin, k, k) * (0.5 / (cin * k * k)) ** 0.5


def ref_bn(prefix, c, nbt=True):
    d = {
        f'{prefix}.weight': torch.rand(c) + 0.5,
        f'{prefix}.bias': torch.randn(c),
        f'{prefix}.running_mean': torch.randn(c),
        f'{prefix}.running_var': torch.rand(c) + 0.5,
    }
    if nbt:
        d[f'{prefix}.num_batches_tracked'] = torch.tensor(7)
    return d


def ref_bottleneck_ir(prefix, cin, cout, nbt=True):
    d = {}
    if cin != cout:  # else a parameter-free MaxPool2d(1, stride)
        d[f'{prefix}.shortcut_layer.0.weight'] = conv_weight(cout, cin, 1)
        d.update(ref_bn(f'{prefix}.shortcut_layer.1', cout, nbt))
    d.update(ref_bn(f'{prefix}.res_layer.0', cin, nbt))
    d[f'{prefix}.res_layer.1.weight'] = conv_weight(cout, cin, 3)
    d[f'{prefix}.res_layer.2.weight'] = torch.rand(cout)
    d[f'{prefix}.res_layer.3.weight'] = conv_weight(cout, cout, 3)
    d.update(ref_bn(f'{prefix}.res_layer.4', cout, nbt))
    return d


def ref_ir50(style='split', nbt=True, output_layer=False, skip_stage=None):
    """``ir50.py`` (body1/2/3) or face.evoLVe ``IR_50`` (body.0-23)."""
    d = {'input_layer.0.weight': conv_weight(64, 3, 3)}
    d.update(ref_bn('input_layer.1', 64, nbt))
    d['input_layer.2.weight'] = torch.rand(64)
    stages = [(64, 64, 3), (64, 128, 4), (128, 256, 14)]
    if style == 'evolve':
        stages.append((256, 512, 3))
    n = 0
    for s, (cin, cout, units) in enumerate(stages, start=1):
        for i in range(units):
            name = f'body.{n}' if style == 'evolve' else f'body{s}.{i}'
            if s != skip_stage:
                d.update(
                    ref_bottleneck_ir(name, cin if i == 0 else cout, cout, nbt)
                )
            n += 1
    if output_layer:  # unused; shapes do not matter to the converter
        d.update(ref_bn('output_layer.0', 512, nbt))
        d['output_layer.3.weight'] = torch.zeros(1)
        d['output_layer.3.bias'] = torch.zeros(512)
        d.update(ref_bn('output_layer.4', 512, nbt))
    return d


def ref_conv_block(prefix, cin, cout, k, groups=1, act=True):
    """``Conv_block`` (conv, bn, prelu) or ``Linear_block`` (no prelu)."""
    d = {f'{prefix}.conv.weight': conv_weight(cout, cin // groups, k)}
    d.update(ref_bn(f'{prefix}.bn', cout))
    if act:
        d[f'{prefix}.prelu.weight'] = torch.rand(cout)
    return d


def ref_depth_wise(prefix, cin, cout, groups):
    d = ref_conv_block(f'{prefix}.conv', cin, groups, 1)
    d.update(ref_conv_block(f'{prefix}.conv_dw', groups, groups, 3, groups))
    d.update(ref_conv_block(f'{prefix}.project', groups, cout, 1, act=False))
    return d


def ref_mobilefacenet():
    d = ref_conv_block('conv1', 3, 64, 3)
    d.update(ref_conv_block('conv2_dw', 64, 64, 3, groups=64))
    for first, later, cin, cout, g1, n, g in (
        ('conv_23', 'conv_3', 64, 64, 128, 4, 128),
        ('conv_34', 'conv_4', 64, 128, 256, 6, 256),
        ('conv_45', 'conv_5', 128, 128, 512, 2, 256),
    ):
        d.update(ref_depth_wise(first, cin, cout, g1))
        for i in range(n):
            d.update(ref_depth_wise(f'{later}.model.{i}', cout, cout, g))
    d.update(ref_conv_block('conv_6_sep', 128, 512, 1))
    # GDC landmark regressor (unused by POSTER V2)
    d.update(ref_conv_block('output_layer.conv_6_dw', 512, 512, 7, 512, False))
    d['output_layer.linear.weight'] = torch.randn(136, 512)
    d.update(ref_bn('output_layer.bn', 136))
    return d


def ref_relative_position_index(w):
    """As ``WindowAttentionGlobal.__init__`` builds it."""
    coords = torch.stack(
        torch.meshgrid([torch.arange(w), torch.arange(w)], indexing='ij')
    )
    coords_flatten = torch.flatten(coords, 1)
    rel = coords_flatten[:, :, None] - coords_flatten[:, None, :]
    rel = rel.permute(1, 2, 0).contiguous()
    rel[:, :, 0] += w - 1
    rel[:, :, 1] += w - 1
    rel[:, :, 0] *= 2 * w - 1
    return rel.sum(-1)


def ref_linear(prefix, cout, cin):
    return {
        f'{prefix}.weight': torch.randn(cout, cin) * 0.02,
        f'{prefix}.bias': torch.randn(cout) * 0.02,
    }


def ref_ln(prefix, c):
    return {
        f'{prefix}.weight': torch.rand(c) + 0.5,
        f'{prefix}.bias': torch.randn(c),
    }


def ref_poster_v2(num_classes=7):
    """The ``state_dict`` of ``pyramid_trans_expr2`` (PosterV2_7cls.py)."""
    d = {}
    for k, v in ref_mobilefacenet().items():
        d[f'face_landback.{k}'] = v
    for k, v in ref_ir50(output_layer=True).items():
        d[f'ir_back.{k}'] = v
    for n, (c, h, w) in enumerate(((64, 2, 28), (128, 4, 14), (256, 8, 7)), 1):
        d[f'attn{n}.relative_position_bias_table'] = torch.randn(
            (2 * w - 1) ** 2, h
        )
        d[f'attn{n}.relative_position_index'] = ref_relative_position_index(w)
        d.update(ref_linear(f'attn{n}.qkv', 2 * c, c))
        d.update(ref_linear(f'attn{n}.proj', c, c))
        d.update(ref_ln(f'window{n}.norm', c))
        d[f'conv{n}.weight'] = conv_weight(c, c, 3)
        d[f'conv{n}.bias'] = torch.randn(c)
        d[f'ffn{n}.gamma1'] = torch.rand(c)
        d[f'ffn{n}.gamma2'] = torch.rand(c)
        d.update(ref_linear(f'ffn{n}.mlp.fc1', 4 * c, c))
        d.update(ref_linear(f'ffn{n}.mlp.fc2', c, 4 * c))
        d.update(ref_ln(f'ffn{n}.norm', c))
    d['last_face_conv.weight'] = conv_weight(256, 512, 3)
    d['last_face_conv.bias'] = torch.randn(256)
    for name, cin, k in (
        ('embed_q.0', 64, 3),
        ('embed_q.1', 768, 3),
        ('embed_k.0', 128, 3),
        ('embed_v.proj', 256, 1),
    ):
        d[f'{name}.weight'] = conv_weight(768, cin, k)
        d[f'{name}.bias'] = torch.randn(768)
    d['VIT.cls_token'] = torch.randn(1, 1, 768)
    d['VIT.pos_embed'] = torch.randn(1, 148, 768)
    d.update(ref_linear('VIT.se_block.linear1', 768, 768))
    d.update(ref_linear('VIT.se_block.linear2', 768, 768))
    d.update(ref_linear('VIT.head.linear', num_classes, 768))
    # dead modules of VisionTransformer
    d['VIT.patch_embed.proj.weight'] = torch.randn(768, 256, 1, 1)
    d['VIT.patch_embed.proj.bias'] = torch.randn(768)
    d['VIT.eca_block.conv.weight'] = torch.randn(1, 1, 5)
    d['VIT.CON1.weight'] = torch.randn(768, 256, 1, 1)
    d.update(ref_linear('VIT.IRLinear1', 768, 1024))
    d.update(ref_linear('VIT.IRLinear2', 512, 768))
    for i in range(2):
        p = f'VIT.blocks.{i}'
        d.update(ref_ln(f'{p}.norm1', 768))
        d[f'{p}.conv.weight'] = torch.randn(148, 148, 1)
        d[f'{p}.conv.bias'] = torch.randn(148)
        d.update(ref_linear(f'{p}.attn.qkv', 2304, 768))
        d.update(ref_linear(f'{p}.attn.proj', 768, 768))
        d.update(ref_ln(f'{p}.norm2', 768))
        d.update(ref_linear(f'{p}.mlp.fc1', 3072, 768))
        d.update(ref_linear(f'{p}.mlp.fc2', 768, 3072))
    d.update(ref_ln('VIT.norm', 768))
    return d


def wrap(state, prefix='module.'):
    return {
        'epoch': 200,
        'state_dict': OrderedDict((prefix + k, v) for k, v in state.items()),
        'best_acc': torch.tensor(92.21),
    }


class Recorder:
    """Stands for the training script's pickled meter objects."""

    def __init__(self):
        self.epochs = 3


# --------------------------------------------------------------------------
@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return MODELS.build(dict(type='PosterV2'))


@pytest.fixture(scope='module')
def stream_files(tmp_path_factory):
    root = tmp_path_factory.mktemp('poster_weights')
    torch.manual_seed(1)
    ir50 = ref_ir50()
    landmark = ref_mobilefacenet()
    torch.save(ir50, root / 'ir50.pth')
    torch.save(wrap(landmark), root / 'mobilefacenet_model_best.pth.tar')
    return dict(
        root=root,
        ir50=(str(root / 'ir50.pth'), ir50),
        landmark=(str(root / 'mobilefacenet_model_best.pth.tar'), landmark),
    )


class TestPosterV2:
    def test_num_params(self, model):
        total = num_params(model) + num_params(nn.Linear(768, 7))
        print(f'POSTER V2 used parameters: {total}')
        assert total == NUM_PARAMS
        assert abs(total - 43.85e6) / 43.85e6 < 0.01
        parts = {
            name: num_params(getattr(model, name)) for name in NUM_PARAMS_PARTS
        }
        assert parts == NUM_PARAMS_PARTS
        # plus cls token and position embedding (1 + 147 tokens)
        assert sum(parts.values()) + 149 * 768 + 7 * 768 + 7 == NUM_PARAMS

    def test_structure(self, model):
        assert model.pos_embed.shape == (1, 148, 768)
        assert model.cls_token.shape == (1, 1, 768)
        tables = [
            b.attn.relative_position_bias_table for b in model.fusion_blocks
        ]
        assert [tuple(t.shape) for t in tables] == [
            (55**2, 2),
            (27**2, 4),
            (13**2, 8),
        ]
        for block, rate in zip(model.fusion_blocks, (0.0, 0.125, 0.25)):
            assert torch.all(block.gamma1.weight == 1e-5)
            assert torch.all(block.ffn.gamma2.weight == 1e-5)
            assert block.ffn.dropout_layer.drop_prob == rate
            assert getattr(block.drop_path, 'drop_prob', 0.0) == rate
        assert len(model.layers) == 2
        for layer in model.layers:
            assert layer.attn.num_heads == 8
            assert layer.attn.qkv.bias is not None
            assert layer.ln1.eps == layer.ln2.eps == 1e-6
            assert layer.ffn.layers[0][0].out_features == 3072
        assert model.final_norm.eps == 1e-6

    def test_flops(self, model):
        from fvcore.nn import FlopCountAnalysis

        def sdpa_macs(inputs, outputs):
            q, k, v = (i.type().sizes() for i in inputs[:3])
            return int(np.prod(q[:-1]) * k[-2] * (q[-1] + v[-1]))

        full = nn.Sequential(OrderedDict(backbone=model)).eval()
        flops = FlopCountAnalysis(full, torch.rand(1, 3, 224, 224))
        flops.set_op_handle('aten::scaled_dot_product_attention', sdpa_macs)
        flops.unsupported_ops_warnings(False)
        flops.uncalled_modules_warnings(False)
        gmacs = flops.total() / 1e9
        print(f'POSTER V2 GMACs at 224: {gmacs:.3f}')
        assert abs(gmacs - 8.6) / 8.6 < 0.05

    def test_forward_backward_default(self, model):
        """Every trainable parameter gets a gradient; the landmark stream
        gets none but, as in the reference (``requires_grad=False`` only),
        its BatchNorms stay in train mode and update their running
        statistics; IR-50 trains."""
        model.train()
        bns = {
            name: m
            for name, m in model.named_modules()
            if isinstance(m, _BatchNorm)
        }
        stats = {n: m.running_mean.clone() for n, m in bns.items()}
        model.zero_grad()
        outs = model(torch.rand(1, 3, 224, 224))
        assert isinstance(outs, tuple) and len(outs) == 1
        (emb,) = outs
        assert emb.shape == (1, 768)
        emb.sum().backward()
        for name, p in model.named_parameters():
            if name.startswith('landmark.'):
                assert not p.requires_grad and p.grad is None, name
            else:
                assert p.requires_grad, name
                assert p.grad is not None and p.grad.abs().sum() > 0, name
        assert model.landmark_conv.weight.grad.abs().sum() > 0
        for name, m in bns.items():
            assert m.training, name
            assert not torch.equal(stats[name], m.running_mean), name

    @pytest.mark.parametrize('arg', ['ir50_checkpoint', 'landmark_checkpoint'])
    def test_removed_checkpoint_arguments_name_the_replacement(self, arg):
        stream = arg.split('_')[0]
        with pytest.raises(
            TypeError, match=f'{arg}= was removed.*{stream}_init_cfg'
        ):
            MODELS.build(dict(type='PosterV2', **{arg: 'ir50.pth'}))
        with pytest.raises(
            TypeError, match="unexpected arguments \\['foo'\\]"
        ):
            MODELS.build(dict(type='PosterV2', foo=1))

    def test_frozen_stats_option_fixes_landmark_bn(self):
        """``frozen_stats=True``: the frozen stream's BatchNorms stay in eval
        mode and their running statistics do not move."""
        model = MODELS.build(
            dict(
                type='PosterV2',
                img_size=64,
                inner_size=64,
                window_sizes=(16, 8, 4),
                frozen_stats=True,
            )
        )
        model.train()
        bns = [
            m for m in model.landmark.modules() if isinstance(m, _BatchNorm)
        ]
        ir_bns = [m for m in model.ir50.modules() if isinstance(m, _BatchNorm)]
        assert not any(m.training for m in bns)
        assert all(m.training for m in ir_bns)  # IR-50 is not frozen
        before = [m.running_mean.clone() for m in bns]
        model(torch.rand(2, 3, 64, 64))[0].sum().backward()
        assert all(torch.equal(b, m.running_mean) for b, m in zip(before, bns))
        assert all(p.grad is None for p in model.landmark.parameters())

    def test_frozen_ir50_multiscale(self, stream_files, tmp_path):
        path_ir50, ir50 = stream_files['ir50']
        path_lm, landmark = stream_files['landmark']
        # Converted offline (as tools/model_converters/poster_to_fermm.py
        # does): IR-50 as a bare state dict, the landmark stream inside a
        # whole-model checkpoint, taken out with ``prefix``.
        ir50_sd, _ = convert_ir50(load_checkpoint_file(path_ir50))
        lm_sd, _ = convert_mobilefacenet(load_checkpoint_file(path_lm))
        torch.save(ir50_sd, tmp_path / 'ir50_fermm.pth')
        torch.save(
            dict(
                state_dict={
                    'backbone.landmark.' + k: v for k, v in lm_sd.items()
                }
            ),
            tmp_path / 'posterv2_fermm.pth',
        )
        model = MODELS.build(
            dict(
                type='PosterV2',
                out_type='multiscale',
                freeze_ir50=True,
                frozen_stats=True,
                ir50_init_cfg=dict(
                    type='Pretrained',
                    checkpoint=str(tmp_path / 'ir50_fermm.pth'),
                ),
                landmark_init_cfg=dict(
                    type='Pretrained',
                    checkpoint=str(tmp_path / 'posterv2_fermm.pth'),
                    prefix='backbone.landmark.',
                ),
            )
        )
        model.init_weights()
        # the stream checkpoints are in place
        sd = model.state_dict()
        assert torch.equal(
            sd['ir50.layer3.13.bn2.running_var'],
            ir50['body3.13.res_layer.4.running_var'],
        )
        assert torch.equal(
            sd['ir50.stem.activate.weight'], ir50['input_layer.2.weight']
        )
        assert torch.equal(
            sd['landmark.layer2.3.depthwise_conv.activate.weight'],
            landmark['conv_4.model.2.conv_dw.prelu.weight'],
        )
        model.train()
        frozen_bns = [
            m
            for m in [*model.ir50.modules(), *model.landmark.modules()]
            if isinstance(m, _BatchNorm)
        ]
        assert frozen_bns and not any(m.training for m in frozen_bns)
        stats = [
            (m.running_mean.clone(), m.running_var.clone()) for m in frozen_bns
        ]
        outs = model(torch.rand(1, 3, 224, 224))
        assert [tuple(o.shape) for o in outs] == [
            (1, 64, 28, 28),
            (1, 128, 14, 14),
            (1, 256, 7, 7),
            (1, 768),
        ]
        sum(o.sum() for o in outs).backward()
        for m, (mean, var) in zip(frozen_bns, stats):
            assert torch.equal(m.running_mean, mean)
            assert torch.equal(m.running_var, var)
        for name, p in model.named_parameters():
            frozen = name.startswith(('ir50.', 'landmark.'))
            assert p.requires_grad != frozen, name
            assert (p.grad is None) == frozen, name
        assert model.landmark_conv.weight.grad.abs().sum() > 0
        assert model.image_convs[0].weight.grad.abs().sum() > 0

    @pytest.mark.parametrize(
        'kwargs, match',
        [
            (dict(out_type='tokens'), 'out_type'),
            (dict(window_sizes=(14, 14, 7)), 'window_sizes'),
            (dict(dims=(32, 128, 256)), r'dims\[:2\]'),
            (dict(num_heads=(2, 4)), 'num_heads'),
        ],
    )
    def test_bad_args(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            MODELS.build(dict(type='PosterV2', **kwargs))


class TestWindowCrossAttentionBlock:
    def test_matches_reference_computation(self):
        """Same numbers as the reference's window/attn/ffn modules."""
        torch.manual_seed(0)
        B, C, heads, w = 2, 32, 4, 7
        block = WindowCrossAttentionBlock(C, heads, w, drop_path_rate=0.1)
        block.init_weights()
        with torch.no_grad():
            block.gamma1.weight.uniform_(0.5, 1.5)
            block.ffn.gamma2.weight.uniform_(0.5, 1.5)
        block.eval()
        assert torch.equal(
            block.attn.relative_position_index, ref_relative_position_index(w)
        )
        img, face = torch.randn(B, C, w, w), torch.randn(B, C, w, w)
        with torch.no_grad():
            out = block(img, face)

            # reference: window(), _to_query(), WindowAttentionGlobal, feedforward
            n, hd = w * w, C // heads
            x = F.layer_norm(
                img.permute(0, 2, 3, 1),
                (C,),
                block.norm1.weight,
                block.norm1.bias,
            )
            shortcut = x
            windows = x.view(B, 1, w, 1, w, C).permute(0, 1, 3, 2, 4, 5)
            windows = windows.reshape(-1, n, C)
            q = face.permute(0, 2, 3, 1).reshape(B, 1, n, heads, hd)
            q = q.permute(0, 1, 3, 2, 4).reshape(B, heads, n, hd)
            kv = F.linear(windows, block.attn.kv.weight, block.attn.kv.bias)
            kv = kv.reshape(B, n, 2, heads, hd).permute(2, 0, 3, 1, 4)
            k, v = kv[0], kv[1]
            attn = (q * hd**-0.5) @ k.transpose(-2, -1)
            table = block.attn.relative_position_bias_table
            bias = table[ref_relative_position_index(w).view(-1)].view(
                n, n, -1
            )
            attn = (attn + bias.permute(2, 0, 1).unsqueeze(0)).softmax(-1)
            o = (attn @ v).transpose(1, 2).reshape(B, n, C)
            o = F.linear(o, block.attn.proj.weight, block.attn.proj.bias)
            o = (
                o.view(B, 1, 1, w, w, C)
                .permute(0, 1, 3, 2, 4, 5)
                .reshape(B, w, w, C)
            )
            x = shortcut + block.gamma1.weight * o
            fc1, fc2 = block.ffn.layers[0][0], block.ffn.layers[1]
            h = F.layer_norm(x, (C,), block.norm2.weight, block.norm2.bias)
            h = F.linear(
                F.gelu(F.linear(h, fc1.weight, fc1.bias)), fc2.weight, fc2.bias
            )
            expected = (x + block.ffn.gamma2.weight * h).permute(0, 3, 1, 2)
        torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-5)

    def test_wrong_map_size(self):
        block = WindowCrossAttentionBlock(16, 2, 7)
        with pytest.raises(ValueError, match='16x7x7'):
            block(torch.rand(1, 16, 14, 14), torch.rand(1, 16, 14, 14))


class TestPosterConverter:
    def test_ir50_split_layout(self):
        ref = ref_ir50()
        assert len(ref) == 292
        state, report = convert_ir50(ref)
        assert len(report.matched) == 292
        assert report.missing == report.unexpected == report.dropped == []
        ir50 = IR50()
        ir50.load_state_dict(state, strict=True)
        sd = ir50.state_dict()
        for src, dst in [
            ('input_layer.0.weight', 'stem.conv.weight'),
            ('input_layer.1.running_var', 'stem.bn.running_var'),
            ('body1.0.res_layer.2.weight', 'layer1.0.prelu.weight'),
            (
                'body2.0.shortcut_layer.0.weight',
                'layer2.0.downsample.0.weight',
            ),
            ('body3.13.res_layer.3.weight', 'layer3.13.conv2.weight'),
        ]:
            assert torch.equal(sd[dst], ref[src]), src

    def test_ir50_evolve_layout(self):
        """face.evoLVe ``body.N``: 21 units mapped, the 4th stage reported."""
        ref = ref_ir50('evolve', nbt=False, output_layer=True)
        state, report = convert_ir50({'state_dict': ref})
        assert report.missing == []
        units = {'.'.join(dst.split('.')[:2]) for _, dst in report.matched}
        assert len(units - {'stem.conv', 'stem.bn', 'stem.activate'}) == 21
        assert {k.split('.')[1] for k in report.unexpected} == {
            '21',
            '22',
            '23',
        }
        # 3 units of 11 tensors (no BN counters) + a 1x1 conv shortcut (5)
        assert len(report.unexpected) == 3 * 11 + 5
        assert all(k.startswith('output_layer.') for k in report.dropped)
        ir50 = IR50()
        ir50.load_state_dict(state, strict=True)  # BN counters filled in
        sd = ir50.state_dict()
        assert torch.equal(
            sd['layer1.2.conv1.weight'], ref['body.2.res_layer.1.weight']
        )
        assert torch.equal(
            sd['layer2.0.downsample.1.bias'],
            ref['body.3.shortcut_layer.1.bias'],
        )
        assert torch.equal(
            sd['layer3.0.bn1.weight'], ref['body.7.res_layer.0.weight']
        )
        assert torch.equal(
            sd['layer3.13.bn2.bias'], ref['body.20.res_layer.4.bias']
        )

    def test_mobilefacenet(self):
        ref = ref_mobilefacenet()
        state, report = convert_mobilefacenet(wrap(ref))
        assert report.missing == report.unexpected == []
        assert len(report.dropped) == 12  # the GDC regressor
        assert len(report.matched) == len(ref) - 12 == 321
        landmark = MobileFaceNet()
        landmark.load_state_dict(state, strict=True)
        sd = landmark.state_dict()
        for src, dst in [
            ('conv1.prelu.weight', 'conv1.activate.weight'),
            ('conv2_dw.conv.weight', 'conv2.conv.weight'),
            (
                'conv_23.project.bn.running_mean',
                'layer1.0.linear_conv.bn.running_mean',
            ),
            (
                'conv_3.model.3.conv.conv.weight',
                'layer1.4.expand_conv.conv.weight',
            ),
            (
                'conv_45.conv_dw.prelu.weight',
                'layer3.0.depthwise_conv.activate.weight',
            ),
            ('conv_6_sep.bn.weight', 'conv3.bn.weight'),
        ]:
            assert torch.equal(sd[dst], ref[src]), src

    def test_poster_v2_roundtrip(self):
        ref = ref_poster_v2()
        state, report = convert_poster_v2(wrap(ref))
        assert report.missing == report.unexpected == []
        classifier = MODELS.build(
            dict(
                type='ImageClassifier',
                backbone=dict(type='PosterV2'),
                head=dict(
                    type='LinearClsHead', num_classes=7, in_channels=768
                ),
            )
        )
        classifier.load_state_dict(state, strict=True)
        assert len(report.matched) == len(classifier.state_dict())
        dropped = {
            k.split('.')[0] + '.' + k.split('.')[1] for k in report.dropped
        }
        assert dropped == {
            'ir_back.output_layer',
            'face_landback.output_layer',
            'attn1.relative_position_index',
            'attn2.relative_position_index',
            'attn3.relative_position_index',
            'VIT.patch_embed',
            'VIT.eca_block',
            'VIT.CON1',
            'VIT.IRLinear1',
            'VIT.IRLinear2',
            'VIT.blocks',  # blocks.N.conv
        }
        sd = classifier.state_dict()
        for src, dst in [
            ('VIT.head.linear.weight', 'head.fc.weight'),
            ('VIT.pos_embed', 'backbone.pos_embed'),
            ('VIT.norm.bias', 'backbone.final_norm.bias'),
            ('VIT.se_block.linear2.weight', 'backbone.se.fc2.weight'),
            (
                'VIT.blocks.1.mlp.fc1.bias',
                'backbone.layers.1.ffn.layers.0.0.bias',
            ),
            ('VIT.blocks.0.norm1.weight', 'backbone.layers.0.ln1.weight'),
            ('attn1.qkv.weight', 'backbone.fusion_blocks.0.attn.kv.weight'),
            (
                'attn3.relative_position_bias_table',
                'backbone.fusion_blocks.2.attn.relative_position_bias_table',
            ),
            ('window2.norm.bias', 'backbone.fusion_blocks.1.norm1.bias'),
            ('ffn2.gamma1', 'backbone.fusion_blocks.1.gamma1.weight'),
            ('ffn3.gamma2', 'backbone.fusion_blocks.2.ffn.gamma2.weight'),
            ('ffn1.norm.weight', 'backbone.fusion_blocks.0.norm2.weight'),
            (
                'ffn1.mlp.fc2.weight',
                'backbone.fusion_blocks.0.ffn.layers.1.weight',
            ),
            ('conv2.bias', 'backbone.image_convs.1.bias'),
            ('last_face_conv.weight', 'backbone.landmark_conv.weight'),
            ('embed_q.1.weight', 'backbone.token_embeds.0.1.weight'),
            ('embed_k.0.bias', 'backbone.token_embeds.1.bias'),
            ('embed_v.proj.weight', 'backbone.token_embeds.2.weight'),
            (
                'ir_back.body2.3.res_layer.4.running_mean',
                'backbone.ir50.layer2.3.bn2.running_mean',
            ),
            (
                'face_landback.conv_5.model.1.project.conv.weight',
                'backbone.landmark.layer3.2.linear_conv.conv.weight',
            ),
        ]:
            assert torch.equal(sd[dst], ref[src]), src
        # converted files convert again to themselves (fer_mm layout passes)
        again, report2 = convert_poster_v2(state)
        assert report2.missing == report2.unexpected == []
        assert again.keys() == state.keys()

    def test_missing_part_raises(self, tmp_path):
        path = str(tmp_path / 'ir50_no_body3.pth')
        torch.save(ref_ir50(skip_stage=3), path)
        ir50 = IR50()
        with pytest.raises(
            IncompleteCheckpointError, match=r"'layer3'.*body3"
        ):
            load_poster_part(ir50, path, 'ir50')
        report = load_poster_part(ir50, path, 'ir50', strict=False)
        assert report.missing and all(
            k.startswith('layer3.') for k in report.missing
        )
        # a POSTER V2 checkpoint without the landmark stream
        ref = {
            k: v
            for k, v in ref_poster_v2().items()
            if not k.startswith('face_landback.')
        }
        _, report = convert_poster_v2(wrap(ref))
        with pytest.raises(
            IncompleteCheckpointError,
            match=r"'backbone.landmark'.*face_landback",
        ):
            report.check()

    def test_weights_only(self, tmp_path, stream_files):
        path = str(tmp_path / 'with_objects.pth')
        torch.save(
            {'state_dict': ref_mobilefacenet(), 'recorder': Recorder()}, path
        )
        with pytest.raises(UnsafeCheckpointError, match='Recorder'):
            load_checkpoint_file(path)
        with pytest.raises(UnsafeCheckpointError):
            load_poster_part(MobileFaceNet(), path, 'mobilefacenet')

    def test_cli(self, tmp_path, stream_files, repo_root):
        cli = converter
        src, ref = stream_files['landmark']
        dst = str(tmp_path / 'out' / 'mobilefacenet_fermm.pth')
        assert cli.main([src, dst]) == 0
        out = load_checkpoint_file(dst)
        assert out['meta']['kind'] == 'mobilefacenet'
        assert torch.equal(
            out['state_dict']['conv3.activate.weight'],
            ref['conv_6_sep.prelu.weight'],
        )
        # the converted file is accepted by the loader as-is
        report = load_poster_part(MobileFaceNet(), dst, 'mobilefacenet')
        assert len(report.matched) == 321 and not report.unexpected

    def test_class_order_permutes_classifier_rows(self, repo_root):
        from argparse import Namespace

        permute_classifier_rows = converter.permute_classifier_rows
        resolve_class_order = converter.resolve_class_order

        # row i of the checkpoint = class i of the sorted folder names
        # angry, disgust, fear, happy, neutral, sad, surprise; fer_mm's
        # RAF-DB order is Surprise, Fear, Disgust, Happiness, Sadness,
        # Anger, Neutral, so (written out by hand) the rows must become:
        expected_rows = [6, 2, 1, 3, 5, 0, 4]
        weight = torch.arange(7.0)[:, None].repeat(1, 768)
        state = {'head.fc.weight': weight, 'head.fc.bias': torch.arange(7.0)}
        src = resolve_class_order(
            'angry,disgust,fear,happy,neutral,sad,surprise'
        )
        assert src == resolve_class_order('alphabetical7')
        out, rows = permute_classifier_rows(
            state, 'head.', src, resolve_class_order('rafdb-label-folders')
        )
        assert rows == expected_rows
        assert out['head.fc.bias'].tolist() == expected_rows
        assert out['head.fc.weight'][:, 0].tolist() == expected_rows
        # folders named by RAF-DB label number: already fer_mm's order
        _, rows = permute_classifier_rows(
            state,
            'head.',
            resolve_class_order('rafdb-label-folders'),
            resolve_class_order('rafdb-label-folders'),
        )
        assert rows == list(range(7))
        # AffectNet ids 0..6 -> RAF-DB order: Surprise is id 3, Fear 4, ...
        _, rows = permute_classifier_rows(
            state,
            'head.',
            resolve_class_order('affectnet7-id-folders'),
            resolve_class_order('rafdb-label-folders'),
        )
        assert rows == [3, 4, 5, 1, 2, 6, 0]
        with pytest.raises(ValueError, match='repeats a class'):
            resolve_class_order('happy,happiness')
        with pytest.raises(ValueError, match='8 .*7'):
            permute_classifier_rows(
                state,
                'head.',
                resolve_class_order('alphabetical8'),
                resolve_class_order('rafdb-label-folders'),
            )
        # the CLI step: default target for 7 rows is fer_mm's RAF-DB order
        cli = converter
        meta = {}
        args = Namespace(
            head_prefix='head.', class_order='alphabetical7', target_order=None
        )
        out = cli.reorder_classes(dict(state), args, meta)
        assert out['head.fc.bias'].tolist() == expected_rows
        assert meta['classes'][0] == 'Surprise'
        args.class_order = None  # rows kept, with a note
        out = cli.reorder_classes(dict(state), args, {})
        assert out['head.fc.bias'].tolist() == list(range(7))


def test_rafdb_config_is_the_reference_recipe(repo_root):
    """POSTER V2 main.py, RAF-DB: SAM(Adam, lr 3.5e-5, rho 0.05, no decay),
    ExponentialLR 0.98, 200 epochs, batch 144, Resize 224 + flip +
    RandomErasing(p 0.5, scale 0.02-0.1), shuffled."""
    from mmengine.config import Config

    cfg = Config.fromfile(
        osp.join(repo_root, 'configs/poster_v2/posterv2_8xb18-200e_rafdb.py')
    )
    ow = cfg.optim_wrapper
    assert (ow.type, ow.rho, ow.adaptive) == ('SAMOptimWrapper', 0.05, False)
    assert ow.optimizer == dict(type='Adam', lr=3.5e-5, weight_decay=0.0)
    assert cfg.param_scheduler == [
        dict(type='ExponentialLR', gamma=0.98, by_epoch=True)
    ]
    assert cfg.train_cfg.max_epochs == 200
    assert cfg.train_dataloader.batch_size * 8 == 144
    assert cfg.train_dataloader.sampler == dict(
        type='DefaultSampler', shuffle=True
    )
    assert cfg.sync_bn == 'torch'
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert types == [
        'LoadImageFromFile',
        'Resize',
        'RandomFlip',
        'RandomErasing',
        'PackInputs',
    ]
    erase = cfg.train_dataloader.dataset.pipeline[3]
    assert (erase.erase_prob, erase.min_area_ratio, erase.max_area_ratio) == (
        0.5,
        0.02,
        0.1,
    )
    # the ImageNet mean fill normalises to 0 (torchvision's value=0)
    mean = np.array(cfg.data_preprocessor['mean'])
    assert np.allclose(np.array(erase.fill_color)[::-1], mean)
    backbone = cfg.model.backbone
    assert backbone.freeze_landmark and not backbone.get('frozen_stats')


def test_arbex_reference_files_are_sent_to_their_converter(
    tmp_path, repo_root, capsys
):
    cli = converter
    # key names of takihasan/ARBEx arbex/models/{poster,ir,head,anchors}.py
    files = {
        'vit.best.0100.pth': {
            'ir.net_1.net.0.res.0.weight': torch.ones(1),
            'window_module.0.norm.weight': torch.ones(1),
            'attns.0.table': torch.ones(1),
            'embs.2.proj.weight': torch.ones(1),
        },
        'classifier.best.0100.pth': {
            'net.0.weight': torch.ones(1),
            'net.2.running_mean': torch.ones(1),
        },
        'anchors.best.0100.pth': {'anchors': torch.zeros(7, 10, 768)},
    }
    for name, state in files.items():
        src = str(tmp_path / name)
        torch.save(state, src)
        assert cli.main([src, str(tmp_path / 'out.pth')]) == 2
        err = capsys.readouterr().err
        assert name in err and 'ARBEx reference' in err, err
        assert 'arbex_to_fermm.py' in err and 'never saves' in err
    assert not (tmp_path / 'out.pth').exists()

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Converter of the ARBEx reference's weight files.

The reference key names and shapes below are written from the reference
source (``takihasan/ARBEx``: ``arbex/models/ir.py``, ``mobilefacenet.py``,
``poster.py``, ``vit.py``, ``head.py``, ``anchors.py``), independently of
the converter's rules.
"""

import os.path as osp

import pytest
import torch
from mmpretrain.registry import MODELS

import fer_mm  # noqa: F401
from fer_mm.utils import load_checkpoint_file
from tests.helpers.tools import load_tool


def bn(prefix, c):
    return {
        f'{prefix}.weight': torch.rand(c) + 0.5,
        f'{prefix}.bias': torch.randn(c) * 0.1,
        f'{prefix}.running_mean': torch.randn(c) * 0.1,
        f'{prefix}.running_var': torch.rand(c) + 0.5,
        f'{prefix}.num_batches_tracked': torch.tensor(7),
    }


def conv(prefix, cout, cin, k, bias=False):
    out = {f'{prefix}.weight': torch.randn(cout, cin, k, k) * 0.05}
    if bias:
        out[f'{prefix}.bias'] = torch.randn(cout) * 0.05
    return out


def linear(prefix, cout, cin):
    return {
        f'{prefix}.weight': torch.randn(cout, cin) * 0.02,
        f'{prefix}.bias': torch.randn(cout) * 0.02,
    }


def ln(prefix, c):
    return {
        f'{prefix}.weight': torch.rand(c) + 0.5,
        f'{prefix}.bias': torch.randn(c),
    }


def ref_ir():
    """ir.py IR50: input_layer, Block(64,64,3), (64,128,4), (128,256,14)."""
    sd = {}
    sd.update(conv('ir.input_layer.0', 64, 3, 3))
    sd.update(bn('ir.input_layer.1', 64))
    sd['ir.input_layer.2.weight'] = torch.rand(64)
    for s, (cin, d, n) in enumerate(
        [(64, 64, 3), (64, 128, 4), (128, 256, 14)], start=1
    ):
        for i in range(n):
            c = cin if i == 0 else d
            p = f'ir.net_{s}.net.{i}'
            if c != d:  # Conv 1x1 + BN shortcut, else MaxPool (no weights)
                sd.update(conv(f'{p}.shortcut.0', d, c, 1))
                sd.update(bn(f'{p}.shortcut.1', d))
            sd.update(bn(f'{p}.res.0', c))
            sd.update(conv(f'{p}.res.1', d, c, 3))
            sd[f'{p}.res.2.weight'] = torch.rand(d)
            sd.update(conv(f'{p}.res.3', d, d, 3))
            sd.update(bn(f'{p}.res.4', d))
    return sd


def conv_block(prefix, cout, cin, k, groups=1, prelu=True):
    sd = conv(f'{prefix}.net.0', cout, cin // groups, k)
    sd.update(bn(f'{prefix}.net.1', cout))
    if prelu:
        sd[f'{prefix}.net.2.weight'] = torch.rand(cout)
    return sd


def depthwise(prefix, cin, cout, groups):
    sd = conv_block(f'{prefix}.net.0', groups, cin, 1)
    sd.update(conv_block(f'{prefix}.net.1', groups, groups, 3, groups))
    sd.update(conv_block(f'{prefix}.net.2', cout, groups, 1, prelu=False))
    return sd


def ref_mobilefacenet():
    """mobilefacenet.py: path_1, path_2, path_3."""
    sd = {}
    sd.update(conv_block('landmark.path_1.0', 64, 3, 3))
    sd.update(conv_block('landmark.path_1.1', 64, 64, 3, groups=64))
    sd.update(depthwise('landmark.path_1.2', 64, 64, 128))
    for i in range(4):
        sd.update(depthwise(f'landmark.path_1.3.net.{i}', 64, 64, 128))
    sd.update(depthwise('landmark.path_2.0', 64, 128, 256))
    for i in range(6):
        sd.update(depthwise(f'landmark.path_2.1.net.{i}', 128, 128, 256))
    sd.update(depthwise('landmark.path_3.0', 128, 128, 512))
    for i in range(2):
        sd.update(depthwise(f'landmark.path_3.1.net.{i}', 128, 128, 256))
    sd.update(conv_block('landmark.path_3.2', 512, 128, 1))
    return sd


def ref_vit_file():
    """poster.py PosterV2 state dict (what train.py saves as vit.*.pth)."""
    sd = {**ref_ir(), **ref_mobilefacenet()}
    sd.update(conv('conv', 256, 512, 3, bias=True))
    for i, (d, h, w) in enumerate([(64, 2, 28), (128, 4, 14), (256, 8, 7)]):
        sd.update(conv(f'convs.{i}', d, d, 3, bias=True))
        sd.update(ln(f'window_module.{i}.norm', d))
        sd[f'attns.{i}.table'] = torch.randn((2 * w - 1) ** 2, h) * 0.02
        sd[f'attns.{i}.index_relative'] = torch.zeros(w * w, w * w).long()
        sd.update(linear(f'attns.{i}.qkv', 2 * d, d))
        sd.update(linear(f'attns.{i}.linear', d, d))
        sd[f'ffns.{i}.gamma_1'] = torch.rand(d)
        sd[f'ffns.{i}.gamma_2'] = torch.rand(d)
        sd.update(linear(f'ffns.{i}.mlp.0', 4 * d, d))
        sd.update(linear(f'ffns.{i}.mlp.3', d, 4 * d))
        sd.update(ln(f'ffns.{i}.norm', d))
    sd.update(conv('embs.0.0', 768, 64, 3, bias=True))
    sd.update(conv('embs.0.1', 768, 768, 3, bias=True))
    sd.update(conv('embs.1', 768, 128, 3, bias=True))
    sd.update(conv('embs.2.proj', 768, 256, 1, bias=True))
    sd['vit.cls_token'] = torch.randn(1, 1, 768)
    sd['vit.pos_embed'] = torch.randn(1, 148, 768)
    sd.update(linear('vit.se_block.linear1', 768, 768))
    sd.update(linear('vit.se_block.linear2', 768, 768))
    # built by vit.py, unused by the forward pass
    sd.update(conv('vit.patch_embed.proj', 768, 256, 1, bias=True))
    sd.update(conv('vit.CON1', 768, 256, 1))
    sd.update(linear('vit.IRLinear1', 768, 1024))
    sd.update(linear('vit.IRLinear2', 512, 768))
    for i in range(2):
        p = f'vit.blocks.{i}'
        sd.update(ln(f'{p}.norm1', 768))
        sd.update(linear(f'{p}.attn.qkv', 2304, 768))
        sd.update(linear(f'{p}.attn.proj', 768, 768))
        sd.update(ln(f'{p}.norm2', 768))
        sd.update(linear(f'{p}.mlp.fc1', 3072, 768))
        sd.update(linear(f'{p}.mlp.fc2', 768, 3072))
        sd[f'{p}.conv.weight'] = torch.randn(148, 148, 1)
        sd[f'{p}.conv.bias'] = torch.randn(148)
    sd.update(ln('vit.norm', 768))
    return sd


def ref_classifier(hidden=(384, 192, 96), classes=7):
    """head.py ClassificationHead(batch_norm=True): Linear, ReLU, BN,
    Dropout per hidden size, then Linear."""
    sd, cin, idx = {}, 768, 0
    for h in hidden:
        sd.update(linear(f'net.{idx}', h, cin))
        sd.update(bn(f'net.{idx + 2}', h))
        idx, cin = idx + 4, h
    sd.update(linear(f'net.{idx}', classes, cin))
    return sd


@pytest.fixture(scope='module')
def cli():
    return load_tool('tools/model_converters/arbex_to_fermm.py')


@pytest.fixture(scope='module')
def ref_files(tmp_path_factory):
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp('arbex_ref')
    files = dict(
        vit=ref_vit_file(),
        classifier=ref_classifier(),
        anchors={'anchors': torch.randn(7, 10, 768)},
    )
    paths = {}
    for name, sd in files.items():
        paths[name] = str(root / f'{name}.best.0500.pth')
        torch.save(sd, paths[name])
    return paths, files


def test_converts_vit_classifier_and_anchors(cli, ref_files, tmp_path):
    paths, ref = ref_files
    dst = str(tmp_path / 'arbex_fermm.pth')
    assert (
        cli.main(
            [
                paths['vit'],
                dst,
                '--classifier',
                paths['classifier'],
                '--anchors',
                paths['anchors'],
            ]
        )
        == 0
    )
    state = load_checkpoint_file(dst)['state_dict']
    model = MODELS.build(
        dict(
            type='FERClassifier',
            backbone=dict(type='PosterV2'),
            head=dict(
                type='ARBExHead',
                num_classes=7,
                in_channels=768,
                hidden_channels=(384, 192, 96),
                num_anchors=10,
                num_attn_anchors=1,
            ),
        )
    )
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected
    # only the never-saved self-attention is left to its initialisation
    assert missing and all(k.startswith('head.attn') for k in missing)
    sd = model.state_dict()
    for src, dst_key in [
        ('ir.input_layer.2.weight', 'backbone.ir50.stem.activate.weight'),
        (
            'ir.net_2.net.0.shortcut.0.weight',
            'backbone.ir50.layer2.0.downsample.0.weight',
        ),
        (
            'ir.net_3.net.13.res.4.running_var',
            'backbone.ir50.layer3.13.bn2.running_var',
        ),
        (
            'landmark.path_1.3.net.1.net.1.net.2.weight',
            'backbone.landmark.layer1.2.depthwise_conv.activate.weight',
        ),
        (
            'landmark.path_3.2.net.1.running_mean',
            'backbone.landmark.conv3.bn.running_mean',
        ),
        ('conv.weight', 'backbone.landmark_conv.weight'),
        (
            'attns.2.table',
            'backbone.fusion_blocks.2.attn.relative_position_bias_table',
        ),
        ('attns.0.linear.bias', 'backbone.fusion_blocks.0.attn.proj.bias'),
        ('ffns.1.gamma_1', 'backbone.fusion_blocks.1.gamma1.weight'),
        ('ffns.2.gamma_2', 'backbone.fusion_blocks.2.ffn.gamma2.weight'),
        (
            'ffns.0.mlp.3.weight',
            'backbone.fusion_blocks.0.ffn.layers.1.weight',
        ),
        ('window_module.1.norm.bias', 'backbone.fusion_blocks.1.norm1.bias'),
        ('embs.2.proj.weight', 'backbone.token_embeds.2.weight'),
        ('vit.blocks.1.mlp.fc1.bias', 'backbone.layers.1.ffn.layers.0.0.bias'),
        ('vit.norm.weight', 'backbone.final_norm.weight'),
        ('vit.se_block.linear2.bias', 'backbone.se.fc2.bias'),
    ]:
        assert torch.equal(sd[dst_key], ref['vit'][src]), src
    for src, dst_key in [
        ('net.0.weight', 'head.mlp.0.weight'),
        ('net.6.running_var', 'head.mlp.6.running_var'),
        ('net.12.bias', 'head.mlp.12.bias'),
    ]:
        assert torch.equal(sd[dst_key], ref['classifier'][src]), src
    assert torch.equal(sd['head.anchors'], ref['anchors']['anchors'])


def test_refusals(cli, ref_files, tmp_path, capsys):
    paths, ref = ref_files
    # a classifier trained with --use-batch-norm False
    no_bn = {k: v for k, v in ref['classifier'].items() if 'running' not in k}
    no_bn = {k: v for k, v in no_bn.items() if 'num_batches' not in k}
    path = str(tmp_path / 'classifier_nobn.pth')
    torch.save(no_bn, path)
    out = str(tmp_path / 'out.pth')
    assert cli.main([paths['vit'], out, '--classifier', path]) == 2
    assert 'without BatchNorm' in capsys.readouterr().err
    # a vit file without its landmark stream
    partial = {
        k: v for k, v in ref['vit'].items() if not k.startswith('landmark.')
    }
    path = str(tmp_path / 'vit_partial.pth')
    torch.save(partial, path)
    assert cli.main([path, out]) == 1
    assert "'backbone.landmark'" in capsys.readouterr().err
    assert not osp.exists(out)

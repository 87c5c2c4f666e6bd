# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""DANAttentionNeck: outputs, layer widths, init and argument checks."""

import math
from unittest import TestCase

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS

import fer_mm  # noqa: F401
from fer_mm.models import DANAttentionNeck


class TestDANAttentionNeck(TestCase):
    DEFAULT_ARGS = dict(type='DANAttentionNeck', in_channels=64, num_heads=3)

    def test_outputs(self):
        neck = MODELS.build(self.DEFAULT_ARGS).eval()
        self.assertEqual((neck.mid_channels, neck.reduction_channels), (32, 4))
        x = torch.rand(2, 64, 5, 5)
        heads, pooled = neck((torch.rand(2, 8, 9, 9), x))  # last map is used
        self.assertEqual(heads.shape, (2, 3, 64))
        torch.testing.assert_close(pooled, x.mean(dim=(2, 3)))
        heads_from_tensor, _ = neck(x)
        torch.testing.assert_close(heads_from_tensor, heads)

    def test_widths(self):
        neck = DANAttentionNeck()
        head = neck.heads[0]
        self.assertEqual(len(neck.heads), 4)
        self.assertEqual(
            head.spatial.conv1x1.conv.weight.shape, (256, 512, 1, 1)
        )
        self.assertEqual(
            head.spatial.conv1x3.conv.weight.shape, (512, 256, 1, 3)
        )
        self.assertEqual(head.channel.fc1.weight.shape, (32, 512))
        custom = DANAttentionNeck(
            in_channels=64, num_heads=1, mid_channels=16, reduction_channels=8
        )
        self.assertEqual(
            custom.heads[0].spatial.conv3x1.conv.weight.shape, (64, 16, 3, 1)
        )
        self.assertEqual(custom.heads[0].channel.fc2.weight.shape, (64, 8))

    def test_init(self):
        torch.manual_seed(0)
        neck = DANAttentionNeck(in_channels=128, num_heads=1)
        for module in neck.modules():  # make the init observable
            for p in module.parameters(recurse=False):
                nn.init.constant_(p, 3.0)
        neck.init_weights()
        spatial, channel = neck.heads[0].spatial, neck.heads[0].channel
        conv = spatial.conv3x3.conv
        fan_out = conv.out_channels * 9
        self.assertAlmostEqual(
            conv.weight.std().item(), math.sqrt(2 / fan_out), delta=0.002
        )
        self.assertTrue(torch.equal(conv.bias, torch.zeros(128)))
        for bn in (spatial.conv1x1.bn, spatial.conv3x3.bn, channel.norm):
            self.assertTrue(torch.equal(bn.weight, torch.ones_like(bn.weight)))
            self.assertTrue(torch.equal(bn.bias, torch.zeros_like(bn.bias)))
        self.assertAlmostEqual(
            channel.fc1.weight.std().item(), 0.001, delta=1e-4
        )
        self.assertTrue(torch.equal(channel.fc2.bias, torch.zeros(128)))

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, 'num_heads must be >= 1'):
            DANAttentionNeck(num_heads=0)
        with self.assertRaisesRegex(ValueError, 'reduction_channels'):
            DANAttentionNeck(in_channels=8)  # 8 // 16 == 0
        neck = DANAttentionNeck(in_channels=64, num_heads=1)
        with self.assertRaisesRegex(ValueError, r'\(B, 64, H, W\)'):
            neck(torch.rand(2, 32, 4, 4))
        with self.assertRaisesRegex(ValueError, 'neck.in_channels=32'):
            neck(torch.rand(2, 32, 4, 4))

    def test_pooled_convnext_names_the_fix(self):
        # mmpretrain's ConvNeXt-T pools before its last norm by default.
        convnext = dict(type='ConvNeXt', arch='tiny', drop_path_rate=0.0)
        neck = DANAttentionNeck(in_channels=768, num_heads=2)
        x = torch.rand(2, 3, 64, 64)
        with torch.no_grad():
            pooled = MODELS.build(convnext)(x)
            self.assertEqual(tuple(pooled[-1].shape), (2, 768))
            with self.assertRaisesRegex(
                ValueError, 'gap_before_final_norm=False'
            ):
                neck(pooled)
            # The fix the message names works.
            fixed = MODELS.build(dict(convnext, gap_before_final_norm=False))
            heads, out = neck(fixed(x))
        self.assertEqual(tuple(heads.shape), (2, 2, 768))
        self.assertEqual(tuple(out.shape), (2, 768))

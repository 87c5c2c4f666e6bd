# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import math
from unittest import TestCase

import torch
from mmpretrain.registry import MODELS

from fer_mm.models.backbones.mini_xception import TFSamePad, tf_same_padding


class TestTFSamePadding(TestCase):
    def test_values_from_the_formula(self):
        # out = ceil(size / stride); total = (out - 1) * stride + k - size,
        # the odd pixel after. Worked by hand for mini-Xception's sizes.
        self.assertEqual(tf_same_padding(60, 3, 2), (0, 1))  # 30: 58+3-60
        self.assertEqual(tf_same_padding(30, 3, 2), (0, 1))  # 15: 28+3-30
        self.assertEqual(tf_same_padding(15, 3, 2), (1, 1))  # 8: 14+3-15
        self.assertEqual(tf_same_padding(8, 3, 2), (0, 1))  # 4: 6+3-8
        self.assertEqual(tf_same_padding(60, 1, 2), (0, 0))  # 58+1-60 < 0
        self.assertEqual(tf_same_padding(15, 1, 2), (0, 0))  # 14+1-15 = 0
        self.assertEqual(tf_same_padding(64, 3, 1), (1, 1))

    def test_max_pool_padding_is_ignored(self):
        # All values negative: a zero-padded max would give 0 at the
        # bottom-right border; TensorFlow's (and ours) keeps the maximum of
        # the real pixels.
        x = -1 - torch.arange(16.0).reshape(1, 1, 4, 4)
        y = torch.nn.MaxPool2d(3, 2)(TFSamePad(3, 2, -math.inf)(x))
        self.assertEqual(tuple(y.shape), (1, 1, 2, 2))
        self.assertTrue((y < 0).all())
        # bottom-right window: rows 2-3, cols 2-3 -> max of -11, -12, -15, -16
        self.assertEqual(y[0, 0, 1, 1].item(), -11.0)


class TestMiniXception(TestCase):
    def build(self, **kwargs):
        return MODELS.build(dict(type='MiniXception', **kwargs))

    def test_shapes(self):
        net = self.build()
        feats = net(torch.rand(2, 1, 64, 64))
        self.assertEqual(len(feats), 1)
        self.assertEqual(tuple(feats[0].shape), (2, 128, 4, 4))
        # 48x48 (FER2013's own size): 44 -> 22 -> 11 -> 6 -> 3
        self.assertEqual(tuple(net(torch.rand(1, 1, 48, 48))[0].shape),
                         (1, 128, 3, 3))  # fmt: skip

    def test_parameter_count(self):
        # Keras' count for the fer model: 58,423 with BN statistics, of
        # which the class layer is 3*3*128*7 + 7 = 8,071.
        net = self.build()
        numbers = sum(
            v.numel()
            for k, v in net.state_dict().items()
            if 'num_batches' not in k
        )
        self.assertEqual(numbers, 58423 - 8071)

    def test_widths(self):
        net = self.build(in_channels=3, module_channels=(8, 16))
        self.assertEqual(net.out_channels, 16)
        self.assertEqual(tuple(net(torch.rand(1, 3, 32, 32))[0].shape),
                         (1, 16, 7, 7))  # fmt: skip

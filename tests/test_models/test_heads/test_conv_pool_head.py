# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from unittest import TestCase

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

DEFAULT_ARGS = dict(type='ConvPoolClsHead', num_classes=3, in_channels=4)


class TestConvPoolClsHead(TestCase):
    def test_logits_are_mean_of_class_maps(self):
        head = MODELS.build(DEFAULT_ARGS)
        x = torch.rand(2, 4, 5, 5)
        maps = torch.nn.functional.conv2d(
            x, head.conv.weight, head.conv.bias, padding=1
        )
        expected = maps.sum(dim=(2, 3)) / 25
        torch.testing.assert_close(head((x,)), expected)

    def test_loss_keys(self):
        head = MODELS.build(DEFAULT_ARGS)
        samples = [DataSample().set_gt_label(i) for i in (0, 2)]
        losses = head.loss((torch.rand(2, 4, 3, 3),), samples)
        self.assertEqual(set(losses), {'loss'})

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, 'num_classes=0'):
            MODELS.build({**DEFAULT_ARGS, 'num_classes': 0})
        with self.assertRaisesRegex(ValueError, 'kernel_size=2 must be odd'):
            MODELS.build({**DEFAULT_ARGS, 'kernel_size': 2})
        head = MODELS.build(DEFAULT_ARGS)
        with self.assertRaisesRegex(ValueError, r'got \(2, 4\).*pooling neck'):
            head((torch.rand(2, 4),))

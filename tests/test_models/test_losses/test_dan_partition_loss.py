# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""DANPartitionLoss and partition_loss against hand-computed values."""

import math
from unittest import TestCase

import torch
from mmpretrain.registry import MODELS

import fer_mm  # noqa: F401
from fer_mm.models import DANPartitionLoss, partition_loss


class TestPartitionLoss(TestCase):
    def test_function_by_hand(self):
        # 2 heads, 1 sample, 2 channels: unbiased variances over the heads
        # are 2 (values 0, 2) and 8 (values 1, 5), mean 5.
        heads = torch.tensor([[[0.0, 1.0], [2.0, 5.0]]])
        torch.testing.assert_close(
            partition_loss(heads, eps=0.0), torch.tensor(math.log(1.4))
        )
        loss_module = MODELS.build(
            dict(type='DANPartitionLoss', loss_weight=0.5, eps=0.0)
        )
        torch.testing.assert_close(
            loss_module(heads), torch.tensor(0.5 * math.log(1.4))
        )

    def test_one_head_is_a_zero_tensor(self):
        heads = torch.rand(3, 1, 4, requires_grad=True)
        loss = DANPartitionLoss()(heads)
        self.assertIsInstance(loss, torch.Tensor)
        self.assertEqual(loss.item(), 0.0)
        self.assertTrue(loss.requires_grad)
        loss.backward()
        self.assertTrue(torch.equal(heads.grad, torch.zeros(3, 1, 4)))

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, r'\(B, num_heads, C\)'):
            partition_loss(torch.rand(2, 3))
        with self.assertRaisesRegex(ValueError, 'eps'):
            DANPartitionLoss(eps=-1.0)


class TestPartitionLossEpsilon(TestCase):
    def heads(self, var):
        # 2 heads at +-s: the unbiased variance over 2 heads is 2 s^2
        s = math.sqrt(var / 2)
        return torch.tensor([[[s], [-s]]], dtype=torch.float64)

    def test_default_is_the_reference_epsilon(self):
        import sys

        var = 1e-6
        expected = math.log(1 + 2 / (var + sys.float_info.epsilon))
        got = partition_loss(self.heads(var)).item()
        self.assertAlmostEqual(got, expected, places=9)
        self.assertAlmostEqual(
            MODELS.build(dict(type='DANPartitionLoss'))(
                self.heads(var)
            ).item(),
            expected,
            places=9,
        )

    def test_larger_epsilon_is_an_option(self):
        var = 1e-6
        guarded = partition_loss(self.heads(var), eps=1e-8).item()
        self.assertAlmostEqual(
            guarded, math.log(1 + 2 / (var + 1e-8)), places=9
        )
        # the two differ by ~1e-2 at this variance (log(1.01))
        self.assertAlmostEqual(
            partition_loss(self.heads(var)).item() - guarded,
            math.log(1.01),
            places=4,
        )

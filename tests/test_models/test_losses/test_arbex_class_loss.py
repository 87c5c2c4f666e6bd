# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import math
from unittest import TestCase

import torch
from mmpretrain.registry import MODELS

from fer_mm.models.losses.arbex_class_loss import arbex_class_loss


class TestARBExClassLossEpsilon(TestCase):
    def test_default_takes_the_log_unguarded(self):
        # the reference: NLLLoss(log(p_hat), y); p = 1e-14 costs -log(1e-14)
        p = torch.tensor([[1e-14, 1 - 1e-14]], dtype=torch.float64)
        y = torch.tensor([0])
        self.assertAlmostEqual(
            arbex_class_loss(p, y).item(), -math.log(1e-14), places=9
        )
        loss = MODELS.build(dict(type='ARBExClassLoss'))
        self.assertAlmostEqual(loss(p, y).item(), -math.log(1e-14), places=9)
        ref = torch.nn.NLLLoss()(torch.log(p), y)
        self.assertAlmostEqual(loss(p, y).item(), ref.item(), places=12)
        zero = torch.tensor([[0.0, 1.0]])
        self.assertTrue(math.isinf(arbex_class_loss(zero, y).item()))

    def test_guard_is_an_option(self):
        p = torch.tensor([[1e-14, 1 - 1e-14]], dtype=torch.float64)
        y = torch.tensor([0])
        guarded = MODELS.build(dict(type='ARBExClassLoss', eps=1e-12))
        self.assertAlmostEqual(
            guarded(p, y).item(), -math.log(1e-12), places=9
        )
        # below the guard the two differ by log(1e-12 / 1e-14) = 4.6
        self.assertAlmostEqual(
            arbex_class_loss(p, y).item() - guarded(p, y).item(),
            math.log(100),
            places=9,
        )

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""DANAffinityLoss and affinity_loss against hand-computed values."""

from unittest import TestCase

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS

import fer_mm  # noqa: F401
from fer_mm.models import DANAffinityLoss, affinity_loss


class TestAffinityLoss(TestCase):
    # 3 classes, 2-d features. Per-dimension unbiased variance of the centres
    # over the classes: (0, 2, 0) -> 4/3, (0, 0, 4) -> 16/3; sum 20/3.
    CENTERS = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0]])
    FEATS = torch.tensor([[1.0, 1.0], [2.0, 2.0], [0.0, 0.0]])
    LABELS = torch.tensor([0, 1, 2])
    # squared distances to the own centre: 2, 4, 16 -> / (20/3)
    PER_SAMPLE = torch.tensor([0.3, 0.6, 2.4])

    def test_function_by_hand(self):
        loss = affinity_loss(self.FEATS, self.LABELS, self.CENTERS)
        torch.testing.assert_close(loss, torch.tensor(1.1))
        none = affinity_loss(
            self.FEATS, self.LABELS, self.CENTERS, reduction='none'
        )
        torch.testing.assert_close(none, self.PER_SAMPLE)
        weighted = affinity_loss(
            self.FEATS,
            self.LABELS,
            self.CENTERS,
            weight=torch.tensor([1.0, 0.0, 1.0]),
        )
        torch.testing.assert_close(weighted, torch.tensor(0.9))

    def test_module(self):
        loss_module = MODELS.build(
            dict(
                type='DANAffinityLoss',
                num_classes=3,
                feat_dim=2,
                loss_weight=2.0,
            )
        )
        self.assertIsInstance(loss_module.centers, nn.Parameter)
        self.assertEqual(loss_module.centers.shape, (3, 2))
        with torch.no_grad():
            loss_module.centers.copy_(self.CENTERS)
        loss = loss_module(self.FEATS, self.LABELS)
        torch.testing.assert_close(loss, torch.tensor(2.2))
        loss.backward()
        self.assertIsNotNone(loss_module.centers.grad)

    def test_empty_batch_is_zero_and_connected(self):
        loss_module = DANAffinityLoss(num_classes=3, feat_dim=2)
        loss = loss_module(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))
        self.assertIsInstance(loss, torch.Tensor)
        self.assertEqual(loss.item(), 0.0)
        loss.backward()
        self.assertTrue(
            torch.equal(loss_module.centers.grad, torch.zeros(3, 2))
        )

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, 'num_classes must be >= 2'):
            DANAffinityLoss(num_classes=1, feat_dim=2)
        with self.assertRaisesRegex(ValueError, 'reduction'):
            DANAffinityLoss(num_classes=3, feat_dim=2, reduction='max')
        with self.assertRaisesRegex(ValueError, 'feature width'):
            affinity_loss(torch.zeros(2, 3), self.LABELS[:2], self.CENTERS)
        with self.assertRaisesRegex(ValueError, 'labels'):
            affinity_loss(self.FEATS, self.LABELS[:2], self.CENTERS)

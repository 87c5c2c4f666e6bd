# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""DANHead: forward and losses against plain torch.nn.functional formulas."""

from unittest import TestCase

import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import fer_mm  # noqa: F401
from fer_mm.models import DANHead
from tests.helpers.dan import samples


class TestDANHead(TestCase):
    DEFAULT_ARGS = dict(type='DANHead', num_classes=3, in_channels=4)

    def setUp(self):
        torch.manual_seed(0)
        self.head = MODELS.build(self.DEFAULT_ARGS)
        self.heads = torch.randn(5, 2, 4)
        self.pooled = torch.randn(5, 4)

    def expected_logits(self, head, heads):
        fused = F.log_softmax(heads, dim=1).sum(dim=1)
        logits = F.linear(fused, head.fc.weight, head.fc.bias)
        # training mode: batch statistics
        return F.batch_norm(
            logits, None, None, head.bn.weight, head.bn.bias, training=True
        )

    def test_forward_and_pre_logits(self):
        feats = (self.heads, self.pooled)
        torch.testing.assert_close(
            self.head.pre_logits(feats), F.log_softmax(self.heads, 1).sum(1)
        )
        expected = self.expected_logits(self.head, self.heads)
        torch.testing.assert_close(self.head(feats), expected)
        preds = self.head.eval().predict(feats)
        self.assertEqual(len(preds), 5)
        self.assertEqual(preds[0].pred_score.shape, (3,))

    def test_loss_by_hand(self):
        labels = [0, 1, 2, 0, 1]
        losses = self.head.loss((self.heads, self.pooled), samples(labels))
        self.assertEqual(
            set(losses), {'loss_cls', 'loss_affinity', 'loss_partition'}
        )
        target = torch.tensor(labels)
        logits = self.expected_logits(self.head, self.heads)
        torch.testing.assert_close(
            losses['loss_cls'], F.cross_entropy(logits, target)
        )
        centers = self.head.affinity_loss.centers
        self.assertEqual(centers.shape, (3, 4))  # num_classes centres
        dist = (self.pooled - centers[target]).pow(2).sum(1)
        torch.testing.assert_close(
            losses['loss_affinity'], dist.mean() / centers.var(0).sum()
        )
        log_heads = F.log_softmax(self.heads, dim=1)
        var = log_heads.var(dim=1).mean()
        torch.testing.assert_close(
            losses['loss_partition'], torch.log(1 + 2 / (var + 1e-8))
        )

    def test_soft_labels(self):
        """CE takes the soft scores; affinity only hard-labelled samples."""
        one_hot = torch.eye(3)
        mixed = 0.7 * one_hot[0] + 0.3 * one_hot[2]
        data_samples = [
            # hard label, one-hot score: counts
            DataSample().set_gt_label(1).set_gt_score(one_hot[1]),
            # stock Mixup: gt_label kept, score mixed: excluded
            DataSample().set_gt_label(0).set_gt_score(mixed),
            # FERDataPreprocessor: marked as batch-mixed: excluded
            DataSample(metainfo=dict(batch_mixed=True))
            .set_gt_label(2)
            .set_gt_score(one_hot[2]),
            # an extra mixed sample without gt_label: excluded
            DataSample().set_gt_score(mixed),
            # hard label, one-hot score: counts
            DataSample().set_gt_label(2).set_gt_score(one_hot[2]),
        ]
        mask = DANHead.affinity_mask(data_samples)
        self.assertEqual(mask.tolist(), [True, False, False, False, True])
        losses = self.head.loss((self.heads, self.pooled), data_samples)
        scores = torch.stack([s.gt_score for s in data_samples])
        logits = self.expected_logits(self.head, self.heads)
        soft_ce = -(scores * F.log_softmax(logits, dim=1)).sum(1).mean()
        torch.testing.assert_close(losses['loss_cls'], soft_ce)
        centers = self.head.affinity_loss.centers
        dist = (self.pooled[[0, 4]] - centers[[1, 2]]).pow(2).sum(1)
        torch.testing.assert_close(
            losses['loss_affinity'], dist.mean() / centers.var(0).sum()
        )

    def test_all_mixed_batch_gives_zero_affinity(self):
        mixed = torch.tensor([0.5, 0.5, 0.0])
        data_samples = [
            DataSample().set_gt_label(0).set_gt_score(mixed) for _ in range(5)
        ]
        losses = self.head.loss((self.heads, self.pooled), data_samples)
        self.assertIsInstance(losses['loss_affinity'], torch.Tensor)
        self.assertEqual(losses['loss_affinity'].item(), 0.0)
        self.assertTrue(losses['loss_affinity'].requires_grad)

    def test_num_centers_and_optional_losses(self):
        head = DANHead(num_classes=7, in_channels=4, num_centers=8)
        self.assertEqual(head.affinity_loss.centers.shape, (8, 4))
        head = DANHead(
            num_classes=3,
            in_channels=4,
            loss_affinity=None,
            loss_partition=None,
        )
        losses = head.loss((self.heads, self.pooled), samples([0] * 5))
        self.assertEqual(set(losses), {'loss_cls'})

    def test_single_head(self):
        heads = torch.randn(5, 1, 4)
        torch.testing.assert_close(
            self.head.pre_logits((heads, self.pooled)), heads[:, 0]
        )
        losses = self.head.loss((heads, self.pooled), samples([0] * 5))
        self.assertEqual(losses['loss_partition'].item(), 0.0)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, 'num_classes must be >= 1'):
            DANHead(num_classes=0, in_channels=4)
        with self.assertRaisesRegex(ValueError, r'num_centers \(6\)'):
            DANHead(num_classes=7, in_channels=4, num_centers=6)
        with self.assertRaisesRegex(TypeError, r'\(heads, pooled\)'):
            self.head((self.heads,))

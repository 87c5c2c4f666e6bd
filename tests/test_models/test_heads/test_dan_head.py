# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""DAN: neck, head, losses, converter, size, and a real training step.

Expected values are computed by hand or from the published formulas with
plain ``torch.nn.functional`` calls, never with fer_mm's own modules.
"""

import copy
import math
import os.path as osp
import tempfile
from collections import OrderedDict
from unittest import TestCase

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import fer_mm  # noqa: F401
from fer_mm.models import (
    DANAffinityLoss,
    DANAttentionNeck,
    DANHead,
    DANPartitionLoss,
    affinity_loss,
    partition_loss,
)
from fer_mm.utils import load_checkpoint_file
from tests.helpers.tools import load_tool


def dan_cfg(num_classes=7, num_heads=4, in_channels=512, backbone=None):
    return dict(
        type='ImageClassifier',
        backbone=backbone or dict(type='ResNet', depth=18, out_indices=(3,)),
        neck=dict(
            type='DANAttentionNeck',
            in_channels=in_channels,
            num_heads=num_heads,
        ),
        head=dict(
            type='DANHead', num_classes=num_classes, in_channels=in_channels
        ),
    )


def samples(labels):
    return [DataSample().set_gt_label(y) for y in labels]


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


class TestDANModel(TestCase):
    def test_parameter_count(self):
        model = MODELS.build(dan_cfg())

        def count(prefix):
            return sum(
                p.numel()
                for k, p in model.named_parameters()
                if k.startswith(prefix)
            )

        # ResNet-18 without fc
        self.assertEqual(count('backbone.'), 11_176_512)
        # per head: 1x1 conv 512*256+256, BN 2*256; 3x3, 1x3, 3x1 convs
        # 256*512*(9+3+3)+3*512, 3 BN 3*2*512; Linear 512*32+32, BN1d 2*32,
        # Linear 32*512+512 -> 2,135,904; 4 heads
        self.assertEqual(count('neck.'), 4 * 2_135_904)
        # AFN: Linear 512*7+7, BN1d 2*7; centres 7*512 (training only,
        # kept in the reference's loss module, not its model)
        self.assertEqual(count('head.affinity_loss.'), 7 * 512)
        self.assertEqual(count('head.') - count('head.affinity_loss.'), 3_605)
        network = count('') - count('head.affinity_loss.')
        self.assertEqual(network, 19_723_733)
        self.assertEqual(round(network / 1e6, 2), 19.72)

    def test_flops(self):
        from fvcore.nn import FlopCountAnalysis

        model = MODELS.build(dan_cfg()).eval()
        flops = FlopCountAnalysis(model, torch.rand(1, 3, 224, 224))
        flops.unsupported_ops_warnings(False)
        flops.uncalled_modules_warnings(False)
        # fvcore counts one per multiply-accumulate (conv, linear) plus one
        # per normalised element (BN): 2.23 G (paper: 2.23 G)
        self.assertGreater(flops.total(), 2.1e9)
        self.assertLess(flops.total(), 2.35e9)
        self.assertAlmostEqual(
            flops.by_module()['neck'] / 1e9, 0.41, delta=0.01
        )

    def test_resnet50_forward(self):
        model = MODELS.build(
            dan_cfg(
                num_heads=2,
                in_channels=2048,
                backbone=dict(type='ResNet', depth=50, out_indices=(3,)),
            )
        ).eval()
        self.assertEqual(model.neck.mid_channels, 1024)
        self.assertEqual(model.neck.reduction_channels, 128)
        with torch.no_grad():
            heads, pooled = model.extract_feat(torch.rand(2, 3, 64, 64))
            logits = model.head((heads, pooled))
        self.assertEqual(heads.shape, (2, 2, 2048))
        self.assertEqual(pooled.shape, (2, 2048))
        self.assertEqual(logits.shape, (2, 7))

    def test_train_step(self):
        torch.manual_seed(0)
        cfg = dan_cfg(
            in_channels=64,
            backbone=dict(
                type='ResNet',
                depth=18,
                base_channels=8,
                stem_channels=8,
                out_indices=(3,),
            ),
        )
        cfg['data_preprocessor'] = dict(mean=[127.5] * 3, std=[64.0] * 3)
        model = MODELS.build(cfg)
        model.init_weights()
        before = copy.deepcopy(model.state_dict())
        wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
        data = dict(
            inputs=[
                torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
                for _ in range(4)
            ],
            data_samples=samples([0, 1, 2, 3]),
        )
        log_vars = model.train_step(data, wrapper)
        self.assertEqual(
            set(log_vars),
            {'loss', 'loss_cls', 'loss_affinity', 'loss_partition'},
        )
        torch.testing.assert_close(
            log_vars['loss'],
            log_vars['loss_cls']
            + log_vars['loss_affinity']
            + log_vars['loss_partition'],
        )
        after = model.state_dict()
        for key in (
            'head.affinity_loss.centers',
            'head.fc.weight',
            'neck.heads.0.spatial.conv3x3.conv.weight',
            'neck.heads.3.channel.fc1.weight',
            'backbone.conv1.weight',
        ):
            self.assertFalse(torch.equal(before[key], after[key]), key)


# -- converter -------------------------------------------------------------


def _randomise(state, generator):
    """Random values of sane scale for a state dict of given shapes."""
    out = OrderedDict()
    for key, value in state.items():
        shape = value.shape
        if key.endswith('num_batches_tracked'):
            out[key] = torch.tensor(7)
        elif key.endswith('running_var') or (
            value.dim() == 1 and key.endswith('weight')
        ):  # BN scale and variance
            out[key] = torch.rand(shape, generator=generator) + 0.5
        elif value.dim() == 1:  # biases, running means
            out[key] = 0.1 * torch.randn(shape, generator=generator)
        else:  # conv / linear weights, He scale
            fan_in = value[0].numel()
            out[key] = torch.randn(shape, generator=generator) * math.sqrt(
                2 / fan_in
            )
    return out


def reference_state(num_classes=7, num_heads=4, c=512, seed=0):
    """A state dict laid out as the reference ``DAN`` (networks/dan.py)."""
    trunk = nn.Sequential(*list(torchvision.models.resnet18().children())[:-2])
    shapes = OrderedDict(
        (f'features.{k}', v) for k, v in trunk.state_dict().items()
    )

    def conv_bn(prefix, cin, cout, kernel):
        shapes[f'{prefix}.0.weight'] = torch.empty(cout, cin, *kernel)
        shapes[f'{prefix}.0.bias'] = torch.empty(cout)
        for name in ('weight', 'bias', 'running_mean', 'running_var'):
            shapes[f'{prefix}.1.{name}'] = torch.empty(cout)
        shapes[f'{prefix}.1.num_batches_tracked'] = torch.empty(())

    for i in range(num_heads):
        sa, ca = f'cat_head{i}.sa', f'cat_head{i}.ca.attention'
        conv_bn(f'{sa}.conv1x1', c, c // 2, (1, 1))
        conv_bn(f'{sa}.conv_3x3', c // 2, c, (3, 3))
        conv_bn(f'{sa}.conv_1x3', c // 2, c, (1, 3))
        conv_bn(f'{sa}.conv_3x1', c // 2, c, (3, 1))
        shapes[f'{ca}.0.weight'] = torch.empty(c // 16, c)
        shapes[f'{ca}.0.bias'] = torch.empty(c // 16)
        for name in ('weight', 'bias', 'running_mean', 'running_var'):
            shapes[f'{ca}.1.{name}'] = torch.empty(c // 16)
        shapes[f'{ca}.1.num_batches_tracked'] = torch.empty(())
        shapes[f'{ca}.3.weight'] = torch.empty(c, c // 16)
        shapes[f'{ca}.3.bias'] = torch.empty(c)
    shapes['fc.weight'] = torch.empty(num_classes, c)
    shapes['fc.bias'] = torch.empty(num_classes)
    for name in ('weight', 'bias', 'running_mean', 'running_var'):
        shapes[f'bn.{name}'] = torch.empty(num_classes)
    shapes['bn.num_batches_tracked'] = torch.empty(())
    return _randomise(shapes, torch.Generator().manual_seed(seed))


def reference_forward(sd, x, num_heads):
    """The published DAN forward (eval mode) from the reference's tensors."""

    def bn(t, p):
        return F.batch_norm(
            t,
            sd[f'{p}.running_mean'],
            sd[f'{p}.running_var'],
            sd[f'{p}.weight'],
            sd[f'{p}.bias'],
            training=False,
            eps=1e-5,
        )

    # features: conv1 bn1 relu maxpool layer1..4 (torchvision ResNet-18)
    x = F.relu(
        bn(
            F.conv2d(x, sd['features.0.weight'], stride=2, padding=3),
            'features.1',
        )
    )
    x = F.max_pool2d(x, 3, stride=2, padding=1)
    for layer, stride in zip((4, 5, 6, 7), (1, 2, 2, 2)):
        for block in (0, 1):
            p = f'features.{layer}.{block}'
            s = stride if block == 0 else 1
            y = F.relu(
                bn(
                    F.conv2d(x, sd[f'{p}.conv1.weight'], stride=s, padding=1),
                    f'{p}.bn1',
                )
            )
            y = bn(F.conv2d(y, sd[f'{p}.conv2.weight'], padding=1), f'{p}.bn2')
            if f'{p}.downsample.0.weight' in sd:
                x = bn(
                    F.conv2d(x, sd[f'{p}.downsample.0.weight'], stride=s),
                    f'{p}.downsample.1',
                )
            x = F.relu(x + y)
    heads = []
    for i in range(num_heads):
        sa, ca = f'cat_head{i}.sa', f'cat_head{i}.ca.attention'

        def conv_bn(t, name, padding):
            return bn(
                F.conv2d(
                    t,
                    sd[f'{sa}.{name}.0.weight'],
                    sd[f'{sa}.{name}.0.bias'],
                    padding=padding,
                ),
                f'{sa}.{name}.1',
            )

        z = conv_bn(x, 'conv1x1', 0)
        z = F.relu(
            conv_bn(z, 'conv_3x3', (1, 1))
            + conv_bn(z, 'conv_1x3', (0, 1))
            + conv_bn(z, 'conv_3x1', (1, 0))
        )
        s = (x * z.sum(dim=1, keepdim=True)).mean(dim=(2, 3))
        g = F.linear(s, sd[f'{ca}.0.weight'], sd[f'{ca}.0.bias'])
        g = F.relu(bn(g, f'{ca}.1'))
        g = torch.sigmoid(
            F.linear(g, sd[f'{ca}.3.weight'], sd[f'{ca}.3.bias'])
        )
        heads.append(s * g)
    heads = F.log_softmax(torch.stack(heads, dim=1), dim=1)
    logits = F.linear(heads.sum(dim=1), sd['fc.weight'], sd['fc.bias'])
    return bn(logits, 'bn')


converter = load_tool('tools/model_converters/dan_to_fermm.py')
convert_state_dict = converter.convert_state_dict
detect_source = converter.detect_source
init_missing_centers = converter.init_missing_centers


class TestDANConverter(TestCase):
    def test_reference_round_trip(self):
        ref = reference_state(num_classes=7, num_heads=4)
        source, state = detect_source(dict(model_state_dict=ref, iter=3))
        self.assertEqual(source, 'dan')
        converted, dropped, unexpected = convert_state_dict(state, source)
        self.assertEqual((dropped, unexpected), ([], []))
        self.assertEqual(len(converted), len(ref))
        model = MODELS.build(dan_cfg(num_classes=7, num_heads=4)).eval()
        added = init_missing_centers(converted, model.state_dict())
        self.assertEqual(added, ['head.affinity_loss.centers'])
        model.load_state_dict(converted, strict=True)
        x = torch.rand(
            2, 3, 64, 64, generator=torch.Generator().manual_seed(1)
        )
        with torch.no_grad():
            ours = model(x, mode='tensor')
            expected = reference_forward(ref, x, num_heads=4)
        torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4)

    def test_tool_on_reference_checkpoint(self):
        tool = converter
        with self.subTest('complete'), tempfile.TemporaryDirectory() as tmp:
            ref = reference_state(num_classes=8, num_heads=2, seed=2)
            src, dst = osp.join(tmp, 'ref.pth'), osp.join(tmp, 'out.pth')
            torch.save(
                dict(
                    iter=5,
                    model_state_dict=ref,
                    optimizer_state_dict=dict(
                        state={0: dict(momentum_buffer=torch.zeros(2))},
                        param_groups=[dict(lr=0.1, momentum=0.9, params=[0])],
                    ),
                ),
                src,
            )
            self.assertEqual(tool.main([src, dst]), 0)
            out = load_checkpoint_file(dst)
            self.assertEqual(out['meta']['source_layout'], 'dan')
            self.assertEqual(
                (out['meta']['num_classes'], out['meta']['num_heads']), (8, 2)
            )
            model = MODELS.build(dan_cfg(num_classes=8, num_heads=2))
            model.load_state_dict(out['state_dict'], strict=True)
        with self.subTest('missing key'), tempfile.TemporaryDirectory() as tmp:
            ref = reference_state(num_classes=7, num_heads=1, seed=3)
            del ref['cat_head0.ca.attention.3.bias']
            src, dst = osp.join(tmp, 'ref.pth'), osp.join(tmp, 'out.pth')
            torch.save(dict(model_state_dict=ref), src)
            self.assertEqual(tool.main([src, dst]), 1)
            self.assertFalse(osp.exists(dst))
            self.assertEqual(tool.main([src, dst, '--allow-missing']), 0)
            self.assertTrue(osp.exists(dst))

    def test_tool_on_msceleb_resnet(self):
        tool = converter
        resnet = torchvision.models.resnet18()
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = osp.join(tmp, 'msceleb.pth'), osp.join(tmp, 'out.pth')
            torch.save(dict(state_dict=resnet.state_dict()), src)
            self.assertEqual(tool.main([src, dst]), 0)
            out = load_checkpoint_file(dst)
        self.assertEqual(out['meta']['dropped_keys'], ['fc.weight', 'fc.bias'])
        model = MODELS.build(dan_cfg())
        missing, unexpected = model.load_state_dict(
            out['state_dict'], strict=False
        )
        self.assertEqual(unexpected, [])
        self.assertFalse([k for k in missing if k.startswith('backbone.')])
        torch.testing.assert_close(
            model.backbone.layer4[1].conv2.weight,
            resnet.layer4[1].conv2.weight,
        )

    def test_unrecognised_checkpoint(self):
        with self.assertRaisesRegex(ValueError, 'unrecognised checkpoint'):
            detect_source(dict(state_dict={'foo.weight': torch.zeros(1)}))
        with self.assertRaisesRegex(
            ValueError, 'already has fer_mm key names'
        ):
            detect_source(
                dict(state_dict={'backbone.conv1.weight': torch.zeros(1)})
            )


class TestDANWithMixAugment(TestCase):
    """DAN inside FERClassifier with MixAugment: the soft CE covers every
    sample with MixAugment's weights, the affinity loss the real ones."""

    def test_train_losses(self):
        torch.manual_seed(0)
        cfg = dan_cfg(
            num_classes=3,
            in_channels=64,
            backbone=dict(
                type='ResNet',
                depth=18,
                base_channels=8,
                stem_channels=8,
                out_indices=(3,),
            ),
        )
        cfg.update(
            type='FERClassifier',
            data_preprocessor=dict(
                type='FERDataPreprocessor',
                num_classes=3,
                mean=[127.5] * 3,
                std=[64.0] * 3,
            ),
            train_cfg=dict(
                augments=dict(type='MixAugment', alpha=0.1, mode='permute')
            ),
        )
        model = MODELS.build(cfg)
        g = torch.Generator().manual_seed(1)
        data = dict(
            inputs=[
                torch.randint(0, 256, (3, 32, 32), generator=g).byte()
                for _ in range(4)
            ],
            data_samples=samples([0, 1, 2, 1]),
        )
        data = model.data_preprocessor(data, training=True)
        data_samples = data['data_samples']
        self.assertEqual(len(data_samples), 8)  # 4 mixed + 4 real
        real = DANHead.affinity_mask(data_samples)
        self.assertEqual(real.tolist(), [False] * 4 + [True] * 4)
        losses = model(**data, mode='loss')
        self.assertEqual(
            set(losses), {'loss_cls', 'loss_affinity', 'loss_partition'}
        )
        heads, pooled = model.extract_feat(data['inputs'])
        centers = model.head.affinity_loss.centers
        labels = torch.tensor([0, 1, 2, 1])
        dist = (pooled[4:] - centers[labels]).pow(2).sum(1)
        torch.testing.assert_close(
            losses['loss_affinity'], dist.mean() / centers.var(0).sum()
        )
        scores = torch.stack([s.gt_score for s in data_samples])
        logits = model.head(model.extract_feat(data['inputs']))
        per_sample = -(scores * F.log_softmax(logits, 1)).sum(1)
        # MixAugment's weights: T/M on the M mixed rows, 2T/N on the N real
        # rows (T = 8 rows here), so the weighted mean is eq. 3.
        expected = per_sample[:4].mean() + 2 * per_sample[4:].mean()
        torch.testing.assert_close(losses['loss_cls'], expected)


@pytest.mark.parametrize(
    'name',
    [
        'dan_resnet18_8xb32-40e_rafdb.py',
        'dan_resnet18_8xb32-10e_affectnet8.py',
        'dan_resnet18_8xb32-10e_affectnet7.py',
    ],
)
def test_multi_gpu_configs_default_to_sync_bn(name, repo_root):
    """8 x 32 reproduces the reference's one batch of 256 only with SyncBN:
    the default; mmengine converts every BatchNorm of the model."""
    from mmengine.config import Config
    from mmengine.model import convert_sync_batchnorm

    cfg = Config.fromfile(osp.join(repo_root, 'configs/dan', name))
    assert cfg.sync_bn == 'torch'
    assert cfg.train_dataloader.batch_size * 8 == 256
    model = MODELS.build(
        dict(cfg.model, backbone=dict(cfg.model.backbone, init_cfg=None))
    )
    model = convert_sync_batchnorm(model, cfg.sync_bn)
    kinds = {type(m).__name__ for m in model.modules()}
    assert 'SyncBatchNorm' in kinds
    assert not kinds & {'BatchNorm1d', 'BatchNorm2d'}

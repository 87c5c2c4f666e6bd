# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""DAN classifier: size, FLOPs, training, MixAugment, SyncBN configs."""

import copy
import os.path as osp
from unittest import TestCase

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS

import fer_mm  # noqa: F401
from fer_mm.models import DANHead
from tests.helpers.dan import dan_cfg, samples


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

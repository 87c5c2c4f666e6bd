# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""MixAugment's training loss equals the paper's eq. 3, computed by hand."""

from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import fer_mm  # noqa: F401
from fer_mm.models import FERDataPreprocessor, MixAugment, hard_label_mask

NUM_CLASSES = 3
MEAN, STD = 127.5, 50.0


def build(mode='permute', augments=None, probs=None):
    torch.manual_seed(0)
    augments = augments or dict(type='MixAugment', alpha=0.1, mode=mode)
    return MODELS.build(
        dict(
            type='FERClassifier',
            # LeNet-5 has no BatchNorm: a sample's logits do not depend on
            # its batch-mates, so eq. 3 can be evaluated term by term.
            backbone=dict(type='LeNet5', num_classes=-1),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=NUM_CLASSES,
                in_channels=120,
                loss=dict(type='CrossEntropyLoss'),
            ),
            data_preprocessor=dict(
                num_classes=NUM_CLASSES, mean=[MEAN], std=[STD]
            ),
            train_cfg=dict(augments=augments, probs=probs),
        )
    )


def batch(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 256, (1, 32, 32), generator=g, dtype=torch.uint8)
        for _ in range(n)
    ]
    labels = [i % NUM_CLASSES for i in range(n)]
    samples = [DataSample().set_gt_label(y) for y in labels]
    return dict(inputs=inputs, data_samples=samples), labels


def logits(model, x):
    return model.head(model.neck(model.backbone(x)))


def ce(model, x, y):
    """Mean soft cross-entropy of the model on images x, targets y (N, K)."""
    return -(y * F.log_softmax(logits(model, x), 1)).sum(1).mean()


def normalised(inputs):
    return torch.stack([(i.float() - MEAN) / STD for i in inputs])


LAM = 0.3


@pytest.mark.parametrize('mode', ['permute', 'independent'])
def test_loss_equals_eq3(mode):
    model = build(mode)
    data, labels = batch(4)
    x = normalised(data['inputs'])
    y = F.one_hot(torch.tensor(labels), NUM_CLASSES).float()
    perm = torch.tensor([2, 0, 3, 1])
    with (
        mock.patch('numpy.random.beta', return_value=LAM),
        mock.patch('torch.randperm', return_value=perm),
    ):
        proc = model.data_preprocessor(data, training=True)
        loss = model(**proc, mode='loss')['loss']
    if mode == 'permute':
        xi, yi, xj, yj = x, y, x[perm], y[perm]
    else:
        xi, yi, xj, yj = x[:2], y[:2], x[2:], y[2:]
    x_mix, y_mix = LAM * xi + (1 - LAM) * xj, LAM * yi + (1 - LAM) * yj
    expected = ce(model, x_mix, y_mix) + ce(model, xi, yi) + ce(model, xj, yj)
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-6)
    # and it is not the plain mean over the enlarged batch
    plain = ce(model, torch.cat([x_mix, x]), torch.cat([y_mix, y]))
    assert not torch.allclose(loss, plain, rtol=1e-3)


@pytest.mark.parametrize('mode', ['permute', 'independent'])
@pytest.mark.parametrize('real_weight', [0.25, 0.0])
def test_real_weight_scales_the_real_terms(mode, real_weight):
    """``real_weight=w``: L = CE(mix) + w (CE(x_i) + CE(x_j)), by hand."""
    model = build(
        augments=dict(
            type='MixAugment', alpha=0.1, mode=mode, real_weight=real_weight
        )
    )
    data, labels = batch(4)
    x = normalised(data['inputs'])
    y = F.one_hot(torch.tensor(labels), NUM_CLASSES).float()
    perm = torch.tensor([2, 0, 3, 1])
    with (
        mock.patch('numpy.random.beta', return_value=LAM),
        mock.patch('torch.randperm', return_value=perm),
    ):
        proc = model.data_preprocessor(data, training=True)
        loss = model(**proc, mode='loss')['loss']
    if mode == 'permute':
        xi, yi, xj, yj = x, y, x[perm], y[perm]
    else:
        xi, yi, xj, yj = x[:2], y[:2], x[2:], y[2:]
    x_mix, y_mix = LAM * xi + (1 - LAM) * xj, LAM * yi + (1 - LAM) * yj
    expected = ce(model, x_mix, y_mix) + real_weight * (
        ce(model, xi, yi) + ce(model, xj, yj)
    )
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='real_weight must be >= 0'):
        MixAugment(real_weight=-0.5)


@pytest.mark.parametrize(
    'mode,n,expected',
    [
        ('permute', 4, 8),
        ('permute', 5, 10),
        ('independent', 4, 6),
        ('independent', 5, 7),
    ],
)
def test_counts_of_samples_labels_weights(mode, n, expected):
    model = build(mode)
    data, labels = batch(n)
    originals = list(data['data_samples'])
    out = model.data_preprocessor(data, training=True)
    samples = out['data_samples']
    assert out['inputs'].size(0) == len(samples) == expected
    assert all(s.gt_score.shape == (NUM_CLASSES,) for s in samples)
    weights = torch.cat([s.loss_weight for s in samples])
    assert weights.shape == (expected,)
    # mean(weight * CE) = mean_mix + 2 * mean_real: weights sum to 3T
    m = expected - n
    torch.testing.assert_close(weights.sum(), torch.tensor(3.0 * expected))
    # real images keep their data samples and hard labels, in order
    assert samples[m:] == originals
    assert [int(s.gt_label) for s in samples[m:]] == labels
    mask = hard_label_mask(samples)
    assert mask.tolist() == [False] * m + [True] * n
    # mixed scores are convex combinations of one-hot labels
    for s in samples[:m]:
        assert torch.isclose(s.gt_score.sum(), torch.tensor(1.0))


def test_eval_mode_is_untouched():
    model = build()
    data, _ = batch(4)
    out = model.data_preprocessor(data, training=False)
    assert out['inputs'].size(0) == 4 and len(out['data_samples']) == 4


def test_combines_with_stock_mixup_through_probs():
    model = build(
        augments=[
            dict(type='MixAugment', alpha=0.1),
            dict(type='Mixup', alpha=1.0),
        ],
        probs=[0.5, 0.5],
    )
    data, _ = batch(4)
    with mock.patch('numpy.random.choice', return_value=1):  # Mixup
        out = model.data_preprocessor(data, training=True)
    assert out['inputs'].size(0) == 4
    assert all(s.metainfo['batch_mixed'] for s in out['data_samples'])
    assert 'loss_weight' not in out['data_samples'][0]
    loss = model(**out, mode='loss')['loss']
    assert torch.isfinite(loss)
    data, _ = batch(4)
    with mock.patch('numpy.random.choice', return_value=2):  # no augment
        out = model.data_preprocessor(data, training=True)
    assert hard_label_mask(out['data_samples']).all()


def test_stock_preprocessor_refuses_mixaugment():
    pre = MODELS.build(
        dict(
            type='ClsDataPreprocessor',
            num_classes=3,
            batch_augments=dict(augments=dict(type='MixAugment')),
        )
    )
    data, _ = batch(2)
    with pytest.raises(RuntimeError, match='FERDataPreprocessor'):
        pre(data, training=True)


def test_bad_arguments():
    with pytest.raises(ValueError, match='alpha must be > 0'):
        MixAugment(alpha=0)
    with pytest.raises(ValueError, match='mode must be one of'):
        MixAugment(mode='pairs')
    with pytest.raises(ValueError, match='probs must have'):
        FERDataPreprocessor(
            batch_augments=dict(
                augments=[dict(type='MixAugment')], probs=[0.6, 0.6]
            )
        )
    with pytest.raises(ValueError, match='at least 2 images'):
        MixAugment(mode='independent').expand(
            torch.zeros(1, 3, 4, 4), torch.ones(1, 3)
        )


def test_lambda_is_beta_distributed():
    aug = MixAugment(alpha=0.1)
    np.random.seed(0)
    lams = [
        aug.expand(torch.zeros(2, 1, 1, 1), torch.eye(2))[2]['lam']
        for _ in range(2000)
    ]
    # Beta(0.1, 0.1) puts most mass near 0 and 1, mean 0.5
    assert abs(np.mean(lams) - 0.5) < 0.05
    assert np.mean((np.array(lams) < 0.1) | (np.array(lams) > 0.9)) > 0.6


def test_rafdb_configs_state_lr_and_offer_unit_range(repo_root):
    """The RAF-DB configs use Adam 1e-4 (one of the paper's two rates) and
    the documented override gives the paper's [0, 1] inputs."""
    import os.path as osp

    import torch
    from mmengine.config import Config
    from mmpretrain.registry import MODELS

    path = osp.join(
        repo_root,
        'configs/mixaugment/mixaugment-flip_resnet50_1xb32-100e_rafdb.py',
    )
    cfg = Config.fromfile(path)
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-4)
    cfg.merge_from_dict(
        {
            'data_preprocessor.mean': [0, 0, 0],
            'data_preprocessor.std': [255] * 3,
        }
    )
    pre = MODELS.build(dict(cfg.data_preprocessor, type='FERDataPreprocessor'))
    img = torch.tensor([0, 51, 255], dtype=torch.uint8).repeat(3, 1, 1)
    out = pre(dict(inputs=[img.view(3, 1, 3)]), False)['inputs']
    assert out.min() == 0 and out.max() == 1
    torch.testing.assert_close(out[0, 0, 0], torch.tensor([0.0, 0.2, 1.0]))

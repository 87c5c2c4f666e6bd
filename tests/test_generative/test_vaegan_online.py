# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""VAEGANLatentAugment: the paper's ratio, realised per class, fresh draws."""

import numpy as np
import pytest
import torch
from mmengine import MessageHub
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

import fer_mm  # noqa: F401
import fer_mm.generative  # noqa: F401
from fer_mm.generative.vaegan import (
    VAEGANLatentAugment,
    class_latent_statistics,
)

from .test_vaegan import DEFAULT_ARGS, LATENT, SIZE

NUM_CLASSES = 7
# a long tail, the largest class (index 3, "Happiness") included
COUNTS = np.array([130, 28, 72, 477, 198, 70, 252])
MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


@pytest.fixture(scope='module')
def vaegan():
    from mmagic.registry import MODELS

    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(dict(DEFAULT_ARGS, perceptual_loss=None)).eval()


@pytest.fixture(scope='module')
def statistics():
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(NUM_CLASSES).repeat_interleave(20)
    codes = torch.randn(len(labels), LATENT, generator=gen)
    return class_latent_statistics(codes, labels, NUM_CLASSES)


def build(vaegan, statistics, **kwargs):
    return VAEGANLatentAugment(
        vaegan, statistics, mean=MEAN, std=STD, **kwargs
    )


def one_hot(labels):
    return torch.nn.functional.one_hot(
        torch.as_tensor(labels), NUM_CLASSES
    ).float()


def test_realised_ratio_is_half_of_every_class(vaegan, statistics):
    aug = build(vaegan, statistics, ratio=0.5)
    rng = np.random.default_rng(0)
    np.random.seed(0)
    probs = COUNTS / COUNTS.sum()
    for _ in range(150):  # long-tailed batches of 16 (not balanced)
        labels = rng.choice(NUM_CLASSES, size=16, p=probs)
        inputs = torch.randn(16, 3, SIZE, SIZE)
        out, scores, info = aug.expand(inputs, one_hot(labels))
        mask = aug.last_mask.numpy()
        # augmented images changed, the others are untouched
        assert torch.equal(out[~mask], inputs[~mask])
        assert not torch.isclose(out[mask], inputs[mask]).all()
        assert torch.equal(scores, one_hot(labels))
        assert info['source'].tolist() == list(range(16))
    ratio = aug.augmented / aug.seen
    assert (aug.seen > 0).all()
    # per-class binomial noise over these draws is below 0.05 for the
    # smallest class; the largest class is augmented like the others
    np.testing.assert_allclose(ratio, 0.5, atol=0.08)
    total = aug.augmented.sum() / aug.seen.sum()
    assert abs(total - 0.5) < 0.02, total
    assert abs(ratio[3] - 0.5) < 0.03, ratio[3]


def test_fresh_draws_and_exact_counts(vaegan, statistics):
    aug = build(vaegan, statistics, ratio=0.5)
    labels = np.array([3] * 8 + [1] * 4)
    inputs = torch.randn(12, 3, SIZE, SIZE)
    np.random.seed(1)
    torch.manual_seed(1)
    out1, _, _ = aug.expand(inputs, one_hot(labels))
    mask1 = aug.last_mask.clone()
    # exactly half of each class (even counts): 4 of 8 and 2 of 4
    assert mask1[:8].sum() == 4 and mask1[8:].sum() == 2
    np.random.seed(1)  # same selection, new latent draw r
    out2, _, _ = aug.expand(inputs, one_hot(labels))
    assert torch.equal(aug.last_mask, mask1)
    assert not torch.allclose(out1[mask1], out2[mask1])


def test_conversion_by_hand_at_zero_strength(vaegan, statistics):
    """s = 0: the output is G(E_mu(x)) of the image in the VAE-GAN's
    normalisation, brought back to the classifier's."""
    import torch.nn.functional as F

    aug = build(vaegan, statistics, ratio=1.0, strength=0.0)
    pix = torch.rand(2, 3, 2 * SIZE, 2 * SIZE) * 255  # RGB, 0-255
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    inputs = (pix - mean) / std
    out, _, _ = aug.expand(inputs, one_hot([0, 5]))
    small = F.interpolate(pix, size=SIZE, mode='bilinear', antialias=True)
    with torch.no_grad():
        mu, _ = vaegan.encode((small - 127.5) / 127.5)
        dec = vaegan.decode(mu) * 127.5 + 127.5
    big = F.interpolate(
        dec.clamp(0, 255), size=2 * SIZE, mode='bilinear', antialias=True
    )
    torch.testing.assert_close(out, (big - mean) / std, atol=1e-4, rtol=0)


def test_through_fer_data_preprocessor_and_last_epochs(vaegan, statistics):
    from mmpretrain.registry import MODELS

    aug = build(vaegan, statistics, ratio=0.5, last_epochs=2)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pre = MODELS.build(
            dict(
                type='FERDataPreprocessor',
                num_classes=NUM_CLASSES,
                mean=MEAN,
                std=STD,
                to_rgb=True,
                batch_augments=dict(augments=aug),
            )
        )
    hub = MessageHub.get_current_instance()
    hub.update_info('max_epochs', 10)
    labels = [3, 3, 3, 3, 0, 0]
    data = dict(
        inputs=[torch.randint(0, 256, (3, SIZE, SIZE)) for _ in labels],
        data_samples=[DataSample().set_gt_label(c) for c in labels],
    )
    hub.update_info('epoch', 7)
    out = pre(data, True)
    assert int(aug.last_mask.sum()) == 3
    # hard labels kept, samples not marked as mixed, weight 1
    for sample, c in zip(out['data_samples'], labels):
        assert sample.gt_label.item() == c
        assert not sample.metainfo.get('batch_mixed', False)
        assert sample.loss_weight.item() == 1.0
    hub.update_info('epoch', 8)  # the last 2 epochs: original data only
    pre(data, True)
    assert int(aug.last_mask.sum()) == 0


def test_errors(vaegan, statistics):
    with pytest.raises(ValueError, match='ratio'):
        build(vaegan, statistics, ratio=1.5)
    with pytest.raises(KeyError, match='stats-out'):
        build(vaegan, dict(mean=statistics['mean']))
    with pytest.raises(ValueError, match='checkpoint'):
        VAEGANLatentAugment(
            'configs/vaegan/vaegan_resnet18-biggan_1xb32-100kiters_rafdb-64x64.py',
            statistics,
        )
    aug = build(vaegan, statistics)
    with pytest.raises(RuntimeError, match='FERDataPreprocessor'):
        aug(torch.zeros(1, 3, SIZE, SIZE), one_hot([0]))

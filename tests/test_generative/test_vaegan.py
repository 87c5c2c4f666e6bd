# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import copy
import json
import os.path as osp
from unittest import TestCase

import numpy as np
import pytest
import torch
from mmagic.registry import MODELS
from mmengine import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import DefaultScope

import fer_mm.generative  # noqa: F401
from fer_mm.generative.losses import gaussian_kl_divergence
from fer_mm.generative.vaegan import (
    ClassCovarianceAugmenter,
    class_latent_statistics,
)

LATENT = 16
SIZE = 32
DEFAULT_ARGS = dict(
    type='VAEGAN',
    data_preprocessor=dict(
        type='DataPreprocessor',
        mean=127.5,
        std=127.5,
        output_channel_order='RGB',
    ),
    encoder=dict(
        type='VAEEncoder',
        backbone=dict(
            type='mmpretrain.ResNet',
            depth=18,
            base_channels=8,
            stem_channels=8,
            out_indices=(3,),
        ),
    ),
    generator=dict(
        type='BigGANGenerator',
        output_scale=SIZE,
        noise_size=LATENT,
        num_classes=0,
        base_channels=8,
        with_shared_embedding=False,
        split_noise=False,
        sn_style='torch',
        auto_sync_bn=False,
    ),
    discriminator=dict(
        type='BigGANDiscriminator',
        input_scale=SIZE,
        num_classes=0,
        base_channels=8,
        sn_style='torch',
    ),
    kl_loss=dict(type='GaussianKLLoss', loss_weight=0.1, warmup_iters=10),
    perceptual_loss=dict(
        type='LocalVGGPerceptualLoss',
        vgg_type='vgg16',
        layer_weights={'3': 1.0},
        vgg_checkpoint=None,
        loss_weight=0.1,
    ),
)
D_KEYS = {'loss', 'loss_disc_fake', 'loss_disc_real'}
G_KEYS = {'loss_gen', 'loss_kl', 'loss_pix', 'loss_perceptual', 'kl_weight'}


@pytest.fixture(autouse=True, scope='module')
def mmagic_scope():
    # mmagic's scope for this module only (the tool sets it globally).
    with DefaultScope.overwrite_default_scope('mmagic'):
        yield


def _batch(n=4):
    return dict(
        inputs=[torch.randint(0, 256, (3, SIZE, SIZE)) for _ in range(n)]
    )


def _wrappers(model):
    return OptimWrapperDict(
        **{
            name: OptimWrapper(
                torch.optim.Adam(getattr(model, name).parameters(), lr=1e-3)
            )
            for name in ('encoder', 'generator', 'discriminator')
        }
    )


def _detach(out):
    if isinstance(out, (tuple, list)):
        return type(out)(o.detach() for o in out)
    return out.detach()


def _params(module):
    return [p.detach().clone() for p in module.parameters() if p.requires_grad]


def _changed(before, module):
    after = [p for p in module.parameters() if p.requires_grad]
    return any(not torch.equal(b, a) for b, a in zip(before, after))


class TestGaussianKLLoss(TestCase):
    def test_schedule_values(self):
        kl = MODELS.build(
            dict(
                type='GaussianKLLoss',
                loss_weight=0.2,
                warmup_iters=100,
                warmup_start=10,
            )
        )
        for it, expected in [
            (0, 0.0),
            (10, 0.0),
            (35, 0.05),
            (60, 0.1),
            (110, 0.2),
            (5000, 0.2),
        ]:
            self.assertAlmostEqual(kl.weight_at(it), expected, msg=it)
        const = MODELS.build(dict(type='GaussianKLLoss', loss_weight=0.3))
        self.assertEqual(const.weight_at(0), 0.3)

    def test_value_by_hand(self):
        mu = torch.tensor([[0.0, 1.0], [2.0, -1.0]])
        logvar = torch.tensor([[0.0, 0.5], [-1.0, 0.0]])
        elem = 0.5 * (mu**2 + logvar.exp() - logvar - 1)
        self.assertEqual(elem[0, 0].item(), 0.0)
        torch.testing.assert_close(
            gaussian_kl_divergence(mu, logvar), elem.mean()
        )
        torch.testing.assert_close(
            gaussian_kl_divergence(mu, logvar, 'batchmean'), elem.sum() / 2
        )
        kl = MODELS.build(
            dict(type='GaussianKLLoss', loss_weight=0.4, warmup_iters=4)
        )
        torch.testing.assert_close(kl(mu, logvar, 1), 0.1 * elem.mean())

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, 'reduction'):
            MODELS.build(dict(type='GaussianKLLoss', reduction='avg'))
        with self.assertRaisesRegex(ValueError, 'warmup_iters'):
            MODELS.build(dict(type='GaussianKLLoss', warmup_iters=-1))
        with self.assertRaisesRegex(ValueError, 'same shape'):
            gaussian_kl_divergence(torch.zeros(2, 3), torch.zeros(2, 4))


class TestVAEGAN(TestCase):
    def setUp(self):
        torch.manual_seed(0)
        MessageHub.get_current_instance().update_info('iter', 5)

    def test_build_and_codes(self):
        model = MODELS.build(DEFAULT_ARGS)
        self.assertEqual(model.encoder.latent_dim, LATENT)
        mu, logvar = model.encode(torch.randn(2, 3, SIZE, SIZE))
        self.assertEqual(mu.shape, (2, LATENT))
        self.assertEqual(logvar.shape, (2, LATENT))
        img = model.decode(mu)
        self.assertEqual(img.shape, (2, 3, SIZE, SIZE))
        self.assertLessEqual(img.abs().max().item(), 1.0)
        # BaseGAN sampling from the prior still works.
        samples = model(dict(num_batches=2))
        self.assertEqual(samples[0].fake_img.shape, (3, SIZE, SIZE))

    def test_train_step(self):
        model = MODELS.build(DEFAULT_ARGS)
        wrappers = _wrappers(model)
        before = {
            n: _params(getattr(model, n))
            for n in ('encoder', 'generator', 'discriminator')
        }
        log_vars = model.train_step(_batch(), wrappers)
        self.assertEqual(set(log_vars), D_KEYS | G_KEYS)
        self.assertTrue(all(torch.is_tensor(v) for v in log_vars.values()))
        # iter 5 of a 10-iteration warm-up to 0.1
        self.assertAlmostEqual(log_vars['kl_weight'].item(), 0.05, places=6)
        for name, params in before.items():
            self.assertTrue(_changed(params, getattr(model, name)), name)
        # D is trainable again after the E + G step.
        self.assertTrue(
            all(p.requires_grad for p in model.discriminator.parameters())
        )

    def test_train_step_loss_values_by_hand(self):
        """Every logged term recomputed from the recorded network outputs
        with the formulas written out: hinge D / G terms, KL with its
        warm-up weight, L1 and the perceptual term times lambda_p."""
        model = MODELS.build(DEFAULT_ARGS)
        calls = {'encoder': [], 'generator': [], 'discriminator': []}

        def record(name):
            def hook(module, args, out):
                calls[name].append((args[0].detach(), _detach(out)))

            return hook

        for name in calls:
            getattr(model, name).register_forward_hook(record(name))
        log_vars = model.train_step(_batch(), _wrappers(model))
        (fake, d_fake), (real, d_real), (recon_in, d_recon) = calls[
            'discriminator'
        ]
        relu = torch.relu
        want = dict(
            loss_disc_fake=relu(1 + d_fake).mean(),
            loss_disc_real=relu(1 - d_real).mean(),
            loss_gen=-d_recon.mean(),
        )
        want['loss'] = want['loss_disc_fake'] + want['loss_disc_real']
        # E + G step: the encoder's second call, the generator's second
        mu, logvar = calls['encoder'][1][1]
        recon = calls['generator'][1][1]
        torch.testing.assert_close(recon, recon_in)
        # iteration 5 of a 10-iteration ramp to 0.1
        kl = 0.5 * (mu**2 + logvar.exp() - logvar - 1)
        want['loss_kl'] = 0.05 * kl.mean()
        want['loss_pix'] = (recon - real).abs().mean()
        # lambda_p = 0.1; VGG16 layer 3 of [0, 1] images, ImageNet-normed
        vgg = model.perceptual_loss.vgg
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

        def feat(x):
            return vgg.vgg_layers[:4](((x + 1) / 2 - mean) / std)

        with torch.no_grad():
            want['loss_perceptual'] = (
                0.1 * (feat(recon) - feat(real)).abs().mean()
            )
        # the real images are the batch scaled to [-1, 1]
        self.assertLessEqual(real.abs().max().item(), 1.0)
        for key, value in want.items():
            torch.testing.assert_close(
                log_vars[key].float(), value.float(), msg=key
            )

    def test_discriminator_steps(self):
        model = MODELS.build(dict(DEFAULT_ARGS, discriminator_steps=2))
        enc = _params(model.encoder)
        MessageHub.get_current_instance().update_info('iter', 0)
        log_vars = model.train_step(_batch(), _wrappers(model))
        self.assertEqual(set(log_vars), D_KEYS)
        self.assertFalse(_changed(enc, model.encoder))

    def test_without_perceptual(self):
        model = MODELS.build(dict(DEFAULT_ARGS, perceptual_loss=None))
        log_vars = model.train_step(_batch(), _wrappers(model))
        self.assertEqual(set(log_vars), D_KEYS | G_KEYS - {'loss_perceptual'})

    def test_errors(self):
        bad = copy.deepcopy(DEFAULT_ARGS)
        bad['encoder']['latent_dim'] = LATENT + 1
        with self.assertRaisesRegex(ValueError, 'latent_dim.*noise_size'):
            MODELS.build(bad)
        model = MODELS.build(DEFAULT_ARGS)
        wrappers = _wrappers(model)
        del wrappers.optim_wrappers['encoder']
        with self.assertRaisesRegex(KeyError, 'encoder'):
            model.train_step(_batch(), wrappers)


class TestClassCovarianceAugmenter(TestCase):
    def setUp(self):
        gen = torch.Generator().manual_seed(0)
        # Two classes with different, correlated code distributions.
        a = torch.randn(400, 3, generator=gen) @ torch.tensor(
            [[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.0, -0.5, 0.3]]
        )
        b = torch.randn(300, 3, generator=gen) * 0.1 + 2.0
        self.codes = torch.cat([a, b])
        self.labels = torch.tensor([0] * 400 + [1] * 300)

    def _hand_cov(self, c):
        return torch.from_numpy(
            np.cov(self.codes[self.labels == c].double().numpy(), rowvar=False)
        ).float()

    def test_statistics_by_hand(self):
        stats = class_latent_statistics(self.codes, self.labels, 3)
        self.assertEqual(stats['count'].tolist(), [400, 300, 0])
        for c in (0, 1):
            torch.testing.assert_close(stats['cov'][c], self._hand_cov(c))
            torch.testing.assert_close(
                stats['mean'][c], self.codes[self.labels == c].mean(0)
            )
        self.assertEqual(stats['cov'][2].abs().sum().item(), 0.0)

    def _draw(self, form, strength, cls=0, n=200000, scale='covariance'):
        aug = ClassCovarianceAugmenter.from_codes(
            self.codes,
            self.labels,
            3,
            strength=strength,
            form=form,
            scale=scale,
        )
        mu = torch.tensor([0.5, -1.0, 2.0])
        z = aug.sample(
            mu.expand(n, 3),
            torch.full((n,), cls),
            generator=torch.Generator().manual_seed(1),
        )
        return mu, z.double()

    def _check(
        self, form, expected_cov, cls=0, strength=0.7, scale='covariance'
    ):
        """Eq. 4: z' ~ N(mu, s * Sigma_c) by default (s scales the
        covariance); scale='std' is the other reading, s^2 * Sigma_c."""
        mu, z = self._draw(form, strength, cls, scale=scale)
        torch.testing.assert_close(z.mean(0).float(), mu, atol=0.01, rtol=0)
        cov = torch.cov(z.T).float()
        factor = strength if scale == 'covariance' else strength**2
        torch.testing.assert_close(
            cov, factor * expected_cov, atol=0.01, rtol=0.02
        )

    def test_full_form_mean_and_covariance(self):
        sigma = self._hand_cov(0)
        self.assertGreater(sigma[0, 1].item(), 0.3)  # correlated
        self._check('full', sigma)

    def test_paper_reading_scales_the_covariance(self):
        sigma = self._hand_cov(0)
        # s = 0.25: covariance 0.25 * Sigma (paper), not 0.0625 * Sigma
        mu, z = self._draw('full', 0.25)
        torch.testing.assert_close(
            torch.cov(z.T).float(), 0.25 * sigma, atol=0.01, rtol=0.02
        )
        self._check('full', sigma, strength=0.25, scale='std')
        with self.assertRaisesRegex(ValueError, 'scale must be one of'):
            ClassCovarianceAugmenter.from_codes(
                self.codes, self.labels, 3, scale='var'
            )

    def test_diag_forms(self):
        var = torch.diagonal(self._hand_cov(0))
        self._check('diag', torch.diag(var))
        self._check('diag_var', torch.diag(var**2))
        # eq. 4's left-hand side literally: s * diag(Sigma) o r
        self._check('diag_var', torch.diag(var**2), scale='std')
        # class 1 has its own (much smaller) spread
        self._check('diag', torch.diag(torch.diagonal(self._hand_cov(1))), 1)

    def test_reproducible_and_errors(self):
        aug = ClassCovarianceAugmenter.from_codes(
            self.codes, self.labels, 3, form='full'
        )
        mu, labels = self.codes[:5], self.labels[:5]
        z1 = aug.sample(mu, labels, torch.Generator().manual_seed(3))
        z2 = aug.sample(mu, labels, torch.Generator().manual_seed(3))
        torch.testing.assert_close(z1, z2)
        self.assertFalse(torch.equal(z1, mu))
        zero = ClassCovarianceAugmenter.from_codes(
            self.codes, self.labels, 3, strength=0.0
        )
        torch.testing.assert_close(zero.sample(mu, labels), mu)
        with self.assertRaisesRegex(ValueError, r'classes \[2\]'):
            aug.sample(mu[:1], torch.tensor([2]))
        with self.assertRaisesRegex(ValueError, 'form'):
            ClassCovarianceAugmenter.from_codes(
                self.codes, self.labels, 3, form='cholesky'
            )
        with self.assertRaisesRegex(ValueError, 'labels must lie'):
            class_latent_statistics(self.codes, self.labels, 1)


@pytest.mark.usefixtures('synthetic_rafdb')
def test_generate_tool_writes_a_rafdb_tree(synthetic_rafdb, tmp_path):
    """vaegan_generate.py on an untrained tiny model: tail filled to the
    target, a RAF-DB tree the RAFDB loader reads, a grid and a record."""
    import importlib.util

    import mmcv
    from mmengine.config import Config

    from fer_mm.datasets import RAFDB

    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(
        osp.join(
            repo,
            'configs/vaegan/vaegan_resnet18-biggan-tiny_1xb16-800iters_synthetic-rafdb-64x64.py',
        )
    )
    cfg_path = str(tmp_path / 'vaegan.py')
    cfg.train_dataloader.dataset.data_root = synthetic_rafdb
    cfg.dump(cfg_path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'vaegan.pth')
    torch.save({'state_dict': model.state_dict()}, ckpt)

    spec = importlib.util.spec_from_file_location(
        'vaegan_generate',
        osp.join(repo, 'tools/generative/vaegan_generate.py'),
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    original = RAFDB(synthetic_rafdb, split='train')
    counts = np.bincount(original.get_gt_labels(), minlength=7)
    target = int(np.sort(counts)[-3])  # fill every class below the 3rd
    out = str(tmp_path / 'generated')
    tool.main(
        [
            cfg_path,
            ckpt,
            out,
            '--target-count',
            str(target),
            '--form',
            'full',
            '--batch-size',
            '32',
        ]
    )
    generated = RAFDB(out, split='train')
    gen_counts = np.bincount(generated.get_gt_labels(), minlength=7)
    expected = np.maximum(target - counts, 0)
    np.testing.assert_array_equal(gen_counts, expected)
    img = mmcv.imread(generated.get_data_info(0)['img_path'])
    assert img.shape == (64, 64, 3)
    with open(osp.join(out, 'vaegan_generation.json')) as f:
        record = json.load(f)
    assert record['images_per_second'] > 0
    assert len(record['images']) == expected.sum()
    assert record['images'][0]['source'].startswith(synthetic_rafdb)
    grid = mmcv.imread(osp.join(out, 'vaegan_samples.png'))
    assert grid.shape[0] == 2 * 64 * int((expected > 0).sum())
    with pytest.raises(FileExistsError, match='--overwrite'):
        tool.main([cfg_path, ckpt, out])
    with pytest.raises(ValueError, match='unknown class'):
        tool.main(
            [cfg_path, ckpt, out, '--overwrite', '--classes', 'Contempt']
        )

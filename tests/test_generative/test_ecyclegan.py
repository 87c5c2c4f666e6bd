# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import copy
import os
import os.path as osp
import subprocess
import sys
from unittest import TestCase

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import fer_mm  # noqa: F401
import fer_mm.generative.ecyclegan  # noqa: F401  (registers in mmagic)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CFG = osp.join(
    REPO,
    'configs/ecyclegan/'
    'ecyclegan_rrdb2x3-tiny_1xb4-300iters_synthetic-rafdb-neutral2disgust.py',
)
A, B = 'neutral', 'disgust'
SIZE = 32


def _scope():
    from mmengine.registry import init_default_scope

    init_default_scope('mmagic')


def _model_cfg(**overrides):
    cfg = dict(
        type='ECycleGAN',
        data_preprocessor=dict(
            type='DataPreprocessor', data_keys=[f'img_{A}', f'img_{B}']
        ),
        generator=dict(
            type='RRDBGenerator',
            mid_channels=8,
            growth_channels=4,
            num_blocks=2,
            num_dense_blocks=3,
            res_scale=0.5,
        ),
        discriminator=dict(
            type='PatchDiscriminator',
            in_channels=3,
            base_channels=8,
            num_conv=2,
            norm_cfg=dict(type='IN'),
            init_cfg=dict(type='normal', gain=0.02),
        ),
        perceptual_loss=dict(
            type='LocalVGGPerceptualLoss',
            vgg_checkpoint=None,
            layer_weights={'8': 1.0},
            loss_weight=1.0,
        ),
        default_domain=B,
        reachable_domains=[A, B],
        related_domains=[A, B],
    )
    cfg.update(overrides)
    return cfg


def _build(**overrides):
    from mmagic.registry import MODELS

    _scope()
    model = MODELS.build(_model_cfg(**overrides))
    model.init_weights()
    return model


def _optim(model):
    from mmengine.optim import build_optim_wrapper

    adam = dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))
    return build_optim_wrapper(
        model,
        dict(
            constructor='MultiOptimWrapperConstructor',
            generators=dict(optimizer=adam),
            discriminators=dict(optimizer=adam),
        ),
    )


def _batch(n=2, seed=0):
    from mmagic.structures import DataSample

    g = torch.Generator().manual_seed(seed)
    inputs = {
        f'img_{d}': torch.rand(n, 3, SIZE, SIZE, generator=g) * 255
        for d in (A, B)
    }
    return dict(inputs=inputs, data_samples=[DataSample() for _ in range(n)])


def _set_iter(it):
    from mmengine import MessageHub

    MessageHub.get_current_instance().update_info('iter', it)


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def _changed(before, module):
    return any(
        not torch.equal(a, b) for a, b in zip(before, module.parameters())
    )


class TestRRDBGenerator(TestCase):
    def test_shape_range_and_default_trunk(self):
        from fer_mm.generative.ecyclegan import RRDBGenerator, ScaledRRDB

        gen = RRDBGenerator(mid_channels=8, growth_channels=4)
        gen.init_weights()
        out = gen(torch.randn(2, 3, 20, 24))
        self.assertEqual(out.shape, (2, 3, 20, 24))
        self.assertLessEqual(out.abs().max().item(), 1.0)
        # ECycleGAN's reduced trunk: 2 RRDBs of 3 dense blocks, alpha 0.5.
        self.assertEqual(len(gen.body), 2)
        for block in gen.body:
            self.assertIsInstance(block, ScaledRRDB)
            self.assertEqual(
                [n for n, _ in block.named_children()],
                ['rdb1', 'rdb2', 'rdb3'],
            )
            self.assertEqual(block.res_scale, 0.5)
            self.assertEqual(block.rdb1.res_scale, 0.5)

    def test_residual_scale_replaces_esrgan_0_2(self):
        from mmagic.models.editors.esrgan.rrdb_net import (
            RRDB,
            ResidualDenseBlock,
        )

        from fer_mm.generative.ecyclegan import (
            ScaledResidualDenseBlock,
            ScaledRRDB,
        )

        torch.manual_seed(0)
        x = torch.randn(1, 8, 6, 6)
        ours = ScaledResidualDenseBlock(8, 4, res_scale=0.5)
        ref = ResidualDenseBlock(8, 4)
        ref.load_state_dict(ours.state_dict())
        # Same layers: only the scale of the residual branch differs.
        torch.testing.assert_close(
            ours(x) - x, (ref(x) - x) * (0.5 / 0.2), rtol=1e-4, atol=1e-6
        )
        block = ScaledRRDB(8, 4, num_dense_blocks=3, res_scale=0.2)
        esrgan = RRDB(8, 4)
        esrgan.load_state_dict(block.state_dict())  # mmagic's names
        torch.testing.assert_close(block(x), esrgan(x))
        two = ScaledRRDB(8, 4, num_dense_blocks=2)
        self.assertEqual(
            [n for n, _ in two.named_children()], ['rdb1', 'rdb2']
        )

    def test_bad_arguments(self):
        from fer_mm.generative.ecyclegan import RRDBGenerator, ScaledRRDB

        with self.assertRaisesRegex(ValueError, 'res_scale'):
            RRDBGenerator(res_scale=0)
        with self.assertRaisesRegex(ValueError, 'num_blocks'):
            RRDBGenerator(num_blocks=0)
        with self.assertRaisesRegex(ValueError, 'num_dense_blocks'):
            ScaledRRDB(8, num_dense_blocks=0)


class TestECycleGAN(TestCase):
    G_KEYS = {
        f'loss_gan_g_{A}',
        f'loss_gan_g_{B}',
        'loss_cycle',
        'loss_id',
        'loss_perceptual',
        'loss',
    }
    D_KEYS = {f'loss_gan_d_{A}', f'loss_gan_d_{B}'}

    def test_train_step_logged_keys_and_updates(self):
        torch.manual_seed(0)
        model = _build()
        optim = _optim(model)
        gens, discs = _params(model.generators), _params(model.discriminators)
        _set_iter(0)
        log = model.train_step(_batch(), optim)
        self.assertEqual(set(log), self.G_KEYS | self.D_KEYS)
        for value in log.values():
            self.assertIsInstance(value, torch.Tensor)
            self.assertTrue(torch.isfinite(value))
        self.assertTrue(_changed(gens, model.generators))
        self.assertTrue(_changed(discs, model.discriminators))
        # the generator total is the sum of its terms
        total = sum(log[k] for k in self.G_KEYS - {'loss'})
        torch.testing.assert_close(log['loss'], total)

    def test_loss_weights_are_absolute(self):
        torch.manual_seed(0)
        model = _build(
            perceptual_loss=None,
            cycle_loss=dict(type='L1Loss', loss_weight=10.0),
            id_loss=dict(type='L1Loss', loss_weight=5.0),  # relative 0.5
        )
        batch = _batch()
        real = model.data_preprocessor(copy.deepcopy(batch), True)['inputs']
        gen = model.generators
        with torch.no_grad():
            expected_id = 5.0 * sum(
                F.l1_loss(gen[d](real[f'img_{d}']), real[f'img_{d}'])
                for d in (A, B)
            )
            expected_cyc = 10.0 * (
                F.l1_loss(gen[A](gen[B](real[f'img_{A}'])), real[f'img_{A}'])
                + F.l1_loss(gen[B](gen[A](real[f'img_{B}'])), real[f'img_{B}'])
            )
        _set_iter(0)
        log = model.train_step(batch, _optim(model))
        self.assertNotIn('loss_perceptual', log)
        torch.testing.assert_close(log['loss_id'], expected_id)
        torch.testing.assert_close(log['loss_cycle'], expected_cyc)
        no_id = _build(id_loss=None, perceptual_loss=None)
        _set_iter(0)
        log = no_id.train_step(_batch(), _optim(no_id))
        self.assertNotIn('loss_id', log)

    def _count_updates(self, iters, **overrides):
        torch.manual_seed(0)
        model = _build(perceptual_loss=None, **overrides)
        optim = _optim(model)
        counts = dict(d=0, g=0)
        for it in range(iters):
            gens = _params(model.generators)
            discs = _params(model.discriminators)
            _set_iter(it)
            log = model.train_step(_batch(seed=it), optim)
            d_step = self.D_KEYS <= set(log)
            g_step = 'loss_cycle' in log
            # parameters move exactly when the log says so
            self.assertEqual(_changed(discs, model.discriminators), d_step)
            self.assertEqual(_changed(gens, model.generators), g_step)
            counts['d'] += d_step
            counts['g'] += g_step
        return counts

    def test_generator_discriminator_ratio(self):
        self.assertEqual(
            self._count_updates(20, generator_steps=10), dict(d=2, g=20)
        )
        self.assertEqual(
            self._count_updates(20, generator_steps=5), dict(d=4, g=20)
        )
        self.assertEqual(
            self._count_updates(10, discriminator_steps=5), dict(d=10, g=2)
        )
        self.assertEqual(self._count_updates(6), dict(d=6, g=6))

    def test_instance_noise_decays_linearly(self):
        model = _build(
            perceptual_loss=None,
            instance_noise_std=0.1,
            instance_noise_decay_iters=100,
        )
        for it, std in ((0, 0.1), (25, 0.075), (50, 0.05), (100, 0.0)):
            self.assertAlmostEqual(model.instance_noise_std_at(it), std)
        self.assertEqual(model.instance_noise_std_at(150), 0.0)

        optim = _optim(model)
        seen = []
        hook = model.discriminators[A].register_forward_pre_hook(
            lambda mod, args: seen.append(args[0].detach().clone())
        )
        batch = _batch(n=4)
        real = model.data_preprocessor(copy.deepcopy(batch), True)['inputs']
        real = real[f'img_{A}']
        for it, std in ((0, 0.1), (50, 0.05), (100, 0.0)):
            seen.clear()
            _set_iter(it)
            log = model.train_step(copy.deepcopy(batch), optim)
            self.assertAlmostEqual(log['instance_noise_std'].item(), std)
            # D_A sees: buffered fake, real (D step), fake (G step)
            self.assertEqual(len(seen), 3)
            noise = seen[1] - real
            if std == 0:
                torch.testing.assert_close(seen[1], real)
            else:
                self.assertAlmostEqual(
                    noise.std().item(), std, delta=0.1 * std
                )
        hook.remove()

    def test_label_flipping_rate(self):
        torch.manual_seed(0)
        model = _build(perceptual_loss=None, label_flip_prob=0.1)
        model.train()
        n = 20000
        # LSGAN: a perfect prediction costs 0, a flipped target costs 1, so
        # the loss is the fraction of flipped samples.
        flipped_real = model.disc_gan_loss(torch.ones(n, 1, 2, 2), True)
        flipped_fake = model.disc_gan_loss(torch.zeros(n, 1, 2, 2), False)
        tol = 4 * (0.1 * 0.9 / n) ** 0.5
        self.assertAlmostEqual(flipped_real.item(), 0.1, delta=tol)
        self.assertAlmostEqual(flipped_fake.item(), 0.1, delta=tol)
        model.eval()  # no flipping outside training
        self.assertEqual(
            model.disc_gan_loss(torch.ones(n, 1, 2, 2), True).item(), 0.0
        )
        plain = _build(perceptual_loss=None)
        plain.train()
        self.assertEqual(
            plain.disc_gan_loss(torch.ones(n, 1, 2, 2), True).item(), 0.0
        )

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, 'generator_steps'):
            _build(generator_steps=2, discriminator_steps=2)
        with self.assertRaisesRegex(ValueError, 'generator_steps'):
            _build(generator_steps=0)
        with self.assertRaisesRegex(ValueError, 'instance_noise_decay_iters'):
            _build(instance_noise_std=0.1)
        with self.assertRaisesRegex(ValueError, 'label_flip_prob'):
            _build(label_flip_prob=0.7)
        with self.assertRaisesRegex(ValueError, 'loss_config'):
            _build(loss_config=dict(cycle_loss_weight=10.0))


def _tiny_dataset(root, test_mode=False, **overrides):
    from mmagic.registry import DATASETS
    from mmengine.config import Config

    _scope()
    cfg = Config.fromfile(TINY_CFG)
    ds = copy.deepcopy(cfg.train_dataloader.dataset)
    ds.dataset.data_root = root
    ds.update(test_mode=test_mode, **overrides)
    if test_mode:
        ds.pipeline = cfg.test_pipeline
    return DATASETS.build(ds)


class TestUnpairedExpressionDataset:
    def test_domains_by_canonical_name(self, synthetic_rafdb):
        from fer_mm.datasets import RAFDB

        ds = _tiny_dataset(synthetic_rafdb)
        fer = RAFDB(data_root=synthetic_rafdb, split='train')
        labels = np.array(fer.get_gt_labels())
        # RAF-DB order: Neutral is label 6, Disgust label 2.
        assert (ds.source_label, ds.target_label) == (6, 2)
        assert list(ds.indices_a) == list(np.flatnonzero(labels == 6))
        assert list(ds.indices_b) == list(np.flatnonzero(labels == 2))
        assert len(ds) == max((labels == 6).sum(), (labels == 2).sum())
        assert ds.metainfo['domains'] == (A, B)
        info = ds.get_data_info(1)
        assert set(info) == {'sample_idx', f'img_{A}_path', f'img_{B}_path'}
        paths = {d['img_path']: d['gt_label'] for d in fer}
        assert paths[info[f'img_{A}_path']] == 6
        assert paths[info[f'img_{B}_path']] == 2
        # synonyms resolve to the same classes
        ds2 = _tiny_dataset(
            synthetic_rafdb, source_class='neutral', target_class='disgusted'
        )
        assert (ds2.source_label, ds2.target_label) == (6, 2)

    def test_pairing_and_pipeline(self, synthetic_rafdb):
        test = _tiny_dataset(synthetic_rafdb, test_mode=True)
        n_b = len(test.indices_b)
        for i in (0, 1, n_b + 1):
            info = test.get_data_info(i)
            b = test.dataset.get_data_info(int(test.indices_b[i % n_b]))
            assert info[f'img_{B}_path'] == b['img_path']
        train = _tiny_dataset(synthetic_rafdb)
        np.random.seed(0)
        drawn = {train.get_data_info(0)[f'img_{B}_path'] for _ in range(30)}
        assert len(drawn) > 1  # unpaired: a random B for each draw
        item = train[0]
        assert set(item['inputs']) == {f'img_{A}', f'img_{B}'}
        assert item['inputs'][f'img_{A}'].shape == (3, 64, 64)
        assert item['inputs'][f'img_{B}'].shape == (3, 64, 64)

    def test_in_memory_fer2013(self, tmp_path):
        from fer_mm.generative.ecyclegan import UnpairedExpressionDataset
        from fer_mm.testing.synthetic import generate_fer2013

        generate_fer2013(str(tmp_path), scale=0.01, num_workers=1, progress=0)
        _scope()
        ds = UnpairedExpressionDataset(
            dataset=dict(type='FER2013', data_root=str(tmp_path)),
            source_class='Neutral',
            target_class='Disgust',
        )
        # FER2013 order: Disgust is 1, Neutral 6
        assert (ds.source_label, ds.target_label) == (6, 1)
        info = ds.get_data_info(0)
        assert info[f'img_{A}'].shape == (48, 48, 3)
        assert info[f'img_{A}'].dtype == np.uint8
        assert info[f'img_{B}_channel_order'] == 'bgr'

    def test_bad_classes(self, synthetic_rafdb):
        with pytest.raises(ValueError, match=r"target_class='Contempt'.*"):
            _tiny_dataset(synthetic_rafdb, target_class='Contempt')
        with pytest.raises(ValueError, match='source_class.*no expression'):
            _tiny_dataset(synthetic_rafdb, source_class='Bored')
        with pytest.raises(ValueError, match='same class'):
            _tiny_dataset(synthetic_rafdb, target_class='neutral')


class TestTranslateExport:
    def test_select_sources(self):
        from fer_mm.generative.ecyclegan.export import select_sources

        assert select_sources(10, 3) == [0, 1, 2]
        drawn = select_sources(10, 5, seed=1)
        assert drawn == select_sources(10, 5, seed=1)
        assert len(set(drawn)) == 5 and max(drawn) < 10
        with pytest.raises(ValueError, match='--num must be in 1..10'):
            select_sources(10, 11)

    def test_translate_writes_rafdb_tree(self, synthetic_rafdb, tmp_path):
        import mmcv

        from fer_mm.datasets import RAFDB
        from fer_mm.generative.ecyclegan.export import translate_to_rafdb

        torch.manual_seed(0)
        model = _build(perceptual_loss=None)
        ds = _tiny_dataset(synthetic_rafdb, test_mode=True)
        out = str(tmp_path / 'gen')
        stats = translate_to_rafdb(
            model, ds, [0, 2, 4], out, batch_size=2, grid_size=2, progress=0
        )
        assert stats['num_images'] == 3 and stats['images_per_s'] > 0
        gen = RAFDB(data_root=out, split='train')
        assert len(gen) == 3
        assert {d['gt_label'] for d in gen} == {2}  # Disgust
        img = mmcv.imread(gen[0]['img_path'])
        assert img.shape == (64, 64, 3)
        grid = mmcv.imread(osp.join(out, 'before_after.png'))
        # one row of two (source above translation) tiles, 2-pixel gaps
        assert grid.shape == (2 + 128 + 2, 2 + 2 * (64 + 2), 3)
        with open(osp.join(out, 'sources.txt')) as f:
            first = f.readline().split()
        assert first[1] == ds.get_data_info(0)[f'img_{A}_path']

    @pytest.mark.slow
    def test_tool_loads_checkpoint_weights_only(
        self, synthetic_rafdb, tmp_path
    ):
        from mmagic.registry import MODELS
        from mmengine.config import Config

        _scope()
        cfg = Config.fromfile(TINY_CFG)
        model = MODELS.build(cfg.model)
        ckpt = str(tmp_path / 'gen.pth')
        torch.save(dict(state_dict=model.state_dict()), ckpt)
        out = str(tmp_path / 'out')
        cmd = [
            sys.executable,
            osp.join(REPO, 'tools/generative/ecyclegan_translate.py'),
            TINY_CFG,
            ckpt,
            out,
            '--num',
            '5',
            '--seed',
            '0',
            '--no-progress',
            '--cfg-options',
            f'train_dataloader.dataset.dataset.data_root={synthetic_rafdb}',
        ]
        env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
        res = subprocess.run(
            cmd, capture_output=True, text=True, env=env, cwd=REPO
        )
        assert res.returncode == 0, res.stderr[-2000:]
        assert 'images/s' in res.stdout
        with open(
            osp.join(out, 'basic/EmoLabel/list_patition_label.txt')
        ) as f:
            assert len(f.readlines()) == 5
        bad = str(tmp_path / 'bad.pth')
        torch.save(dict(state_dict={'generators.x': torch.zeros(1)}), bad)
        res = subprocess.run(
            cmd[:3] + [bad] + cmd[4:], capture_output=True, text=True, env=env
        )
        assert res.returncode != 0
        assert 'does not match the model' in res.stderr

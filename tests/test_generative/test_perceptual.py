# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from unittest import TestCase, mock

import torch
import torch.nn.functional as F
import torchvision
from mmagic.registry import MODELS

import fer_mm.generative  # noqa: F401
from fer_mm.generative.losses import LocalVGGPerceptualLoss

DEFAULT_ARGS = dict(
    type='LocalVGGPerceptualLoss',
    vgg_type='vgg16',
    layer_weights={'3': 1.0, '8': 0.5},
    vgg_checkpoint=None,
)


def _no_download(*args, **kwargs):
    raise AssertionError('the perceptual loss tried to download weights')


class TestLocalVGGPerceptualLoss(TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.pred = torch.rand(2, 3, 32, 32) * 2 - 1
        self.target = torch.rand(2, 3, 32, 32) * 2 - 1

    def test_random_weights_warn_and_give_a_scalar(self):
        logger = mock.MagicMock()
        no_download = mock.patch(
            'torch.hub.load_state_dict_from_url', _no_download
        )
        capture = mock.patch(
            'fer_mm.generative.losses.perceptual.MMLogger.get_current_instance',
            return_value=logger,
        )
        with no_download, capture:
            loss = MODELS.build(DEFAULT_ARGS)
        (message,), _ = logger.warning.call_args
        self.assertIn('RANDOM vgg16 weights', message)
        pred = self.pred.clone().requires_grad_()
        value = loss(pred, self.target)
        self.assertEqual(value.shape, torch.Size([]))
        self.assertGreater(value.item(), 0)
        self.assertEqual(loss(self.target, self.target).item(), 0.0)
        value.backward()
        self.assertIsNotNone(pred.grad)
        self.assertTrue(
            all(not p.requires_grad for p in loss.vgg.parameters())
        )

    def test_value_by_hand(self):
        loss = MODELS.build(
            dict(DEFAULT_ARGS, loss_weight=2.0, perceptual_weight=0.5)
        )
        layers = loss.vgg.vgg_layers
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

        def feats(x):
            x = ((x + 1) / 2 - mean) / std
            out = {}
            for i, layer in enumerate(layers):
                x = layer(x)
                out[str(i)] = x
            return out

        fp, ft = feats(self.pred), feats(self.target)
        expected = (
            2.0
            * 0.5
            * (F.l1_loss(fp['3'], ft['3']) + 0.5 * F.l1_loss(fp['8'], ft['8']))
        )
        torch.testing.assert_close(loss(self.pred, self.target), expected)

    def test_loads_torchvision_state_dict(self):
        vgg = torchvision.models.vgg16(weights=None)
        for wrap in (False, True):
            with self.subTest(wrapped=wrap):
                state = vgg.state_dict()
                if wrap:
                    state = {'state_dict': state}
                path = self._save(state)
                loss = MODELS.build(dict(DEFAULT_ARGS, vgg_checkpoint=path))
                self.assertEqual(len(loss.vgg.vgg_layers), 9)
                torch.testing.assert_close(
                    loss.vgg.vgg_layers[7].weight, vgg.features[7].weight
                )

    def _save(self, state):
        import tempfile

        tmp = tempfile.NamedTemporaryFile(suffix='.pth', delete=False)
        torch.save(state, tmp.name)
        self.addCleanup(lambda: __import__('os').remove(tmp.name))
        return tmp.name

    def test_missing_file_names_the_config_key(self):
        with self.assertRaisesRegex(
            FileNotFoundError, r'vgg_checkpoint.*/no/such/vgg16\.pth'
        ):
            MODELS.build(
                dict(DEFAULT_ARGS, vgg_checkpoint='/no/such/vgg16.pth')
            )

    def test_incomplete_or_wrong_file(self):
        vgg = torchvision.models.vgg16(weights=None)
        partial = {
            k: v
            for k, v in vgg.state_dict().items()
            if k.startswith('features.0.')
        }
        with self.assertRaisesRegex(KeyError, r'features\.2\.weight'):
            MODELS.build(
                dict(DEFAULT_ARGS, vgg_checkpoint=self._save(partial))
            )
        with self.assertRaisesRegex(ValueError, 'VGG state dict'):
            MODELS.build(dict(DEFAULT_ARGS, vgg_checkpoint=self._save([1, 2])))

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, 'layer_weights.*40'):
            MODELS.build(dict(DEFAULT_ARGS, layer_weights={'40': 1.0}))
        with self.assertRaisesRegex(ValueError, 'vgg_type'):
            MODELS.build(dict(DEFAULT_ARGS, vgg_type='vgg11'))
        with self.assertRaisesRegex(ValueError, 'criterion'):
            MODELS.build(dict(DEFAULT_ARGS, criterion='l3'))

    def test_defaults_and_style_term(self):
        loss = LocalVGGPerceptualLoss(vgg_type='vgg16')
        self.assertEqual(loss.layer_weights, {'28': 1.0})
        self.assertEqual(len(loss.vgg.vgg_layers), 29)
        base = MODELS.build(DEFAULT_ARGS)
        styled = MODELS.build(
            dict(DEFAULT_ARGS, perceptual_weight=0.0, style_weight=1.0)
        )
        styled.vgg.load_state_dict(base.vgg.state_dict())
        self.assertGreater(styled(self.pred, self.target).item(), 0)
        self.assertEqual(styled(self.pred, self.pred).item(), 0.0)


class TestInputChannelOrder(TestCase):
    def test_bgr_inputs_are_flipped_before_the_rgb_vgg(self):
        torch.manual_seed(0)
        rgb = MODELS.build(DEFAULT_ARGS)
        bgr = MODELS.build(dict(DEFAULT_ARGS, input_channel_order='BGR'))
        bgr.load_state_dict(rgb.state_dict())
        pred_rgb = torch.rand(2, 3, 32, 32) * 2 - 1
        tgt_rgb = torch.rand(2, 3, 32, 32) * 2 - 1
        pred_bgr, tgt_bgr = pred_rgb.flip(1), tgt_rgb.flip(1)
        torch.testing.assert_close(
            bgr(pred_bgr, tgt_bgr), rgb(pred_rgb, tgt_rgb)
        )
        # what the VGG receives: RGB in [0, 1], ImageNet-normalised, not
        # the BGR tensor normalised with the RGB statistics (the bug)
        seen = []
        bgr.vgg.vgg_layers[0].register_forward_pre_hook(
            lambda m, args: seen.append(args[0])
        )
        bgr(pred_bgr, tgt_bgr)
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        torch.testing.assert_close(seen[0], ((pred_rgb + 1) / 2 - mean) / std)
        self.assertFalse(
            torch.allclose(seen[0], ((pred_bgr + 1) / 2 - mean) / std)
        )
        with self.assertRaisesRegex(ValueError, 'input_channel_order'):
            MODELS.build(dict(DEFAULT_ARGS, input_channel_order='YUV'))


def _vgg_input_of_red_face(config, tmp_path):
    """What the ECycleGAN config's VGG sees for a pure red image file:
    the config's loading transform, data preprocessor and perceptual loss."""
    import mmcv
    import numpy as np
    from mmagic.registry import TRANSFORMS
    from mmengine.config import Config

    cfg = Config.fromfile(config)
    path = str(tmp_path / 'red.png')
    red_bgr = np.zeros((16, 16, 3), np.uint8)
    red_bgr[..., 2] = 255  # BGR file content of pure red
    mmcv.imwrite(red_bgr, path)
    load_cfg = dict(cfg.train_pipeline[0])
    key = load_cfg['key']
    loaded = TRANSFORMS.build(load_cfg)({f'{key}_path': path})[key]
    img = torch.from_numpy(loaded).permute(2, 0, 1).float()[None]
    pre = MODELS.build(cfg.model.data_preprocessor)
    normed = pre._do_norm(
        pre._do_conversion(img, 'BGR', pre.output_channel_order)[0]
    )
    loss = MODELS.build(dict(cfg.model.perceptual_loss, vgg_checkpoint=None))
    seen = []
    loss.vgg.vgg_layers[0].register_forward_pre_hook(
        lambda m, args: seen.append(args[0].detach())
    )
    loss(normed, normed)
    return seen[0]


def test_ecyclegan_configs_feed_the_vgg_rgb(tmp_path):
    """Fails on the swapped order: red must arrive in channel 0 of the VGG,
    normalised with the R statistics (1 - 0.485) / 0.229, and blue (0) with
    the B statistics (0 - 0.406) / 0.225."""
    import os.path as osp

    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    for name in (
        'ecyclegan_rrdb2x3_1xb4-40kiters_rafdb-neutral2disgust.py',
        'ecyclegan_rrdb2x3-tiny_1xb4-300iters_synthetic-rafdb-neutral2disgust.py',
    ):
        x = _vgg_input_of_red_face(
            osp.join(repo, 'configs/ecyclegan', name), tmp_path
        )
        expected = torch.tensor(
            [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (0 - 0.406) / 0.225]
        )
        torch.testing.assert_close(
            x[0, :, 0, 0], expected, atol=1e-3, rtol=0, msg=name
        )

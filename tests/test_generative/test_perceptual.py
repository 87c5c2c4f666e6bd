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

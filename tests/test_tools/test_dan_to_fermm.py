# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The DAN weight converter, tools/model_converters/dan_to_fermm.py."""

import math
import os.path as osp
import tempfile
from collections import OrderedDict
from unittest import TestCase

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from mmpretrain.registry import MODELS

import fer_mm  # noqa: F401
from fer_mm.utils import load_checkpoint_file
from tests.helpers.dan import dan_cfg
from tests.helpers.tools import load_tool


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

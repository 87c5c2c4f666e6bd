# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""IR-50 and MobileFaceNet are registered backbones of their own.

Parameter counts are summed from the layer formulas below (conv: in * out *
k * k / groups, BatchNorm: 2 * C, PReLU: C), not read from the modules.
"""

import torch
from mmpretrain.registry import MODELS

import fer_mm  # noqa: F401
from fer_mm.models import IR50, MobileFaceNet


def conv(cin, cout, k, groups=1):
    return cin * cout * k * k // groups


def bn(c):
    return 2 * c


def ir_unit(cin, cout):
    # BN -> 3x3 conv -> PReLU -> 3x3 conv -> BN; 1x1 conv + BN shortcut
    # when the width changes (else a parameter-free max-pool / identity).
    n = bn(cin) + conv(cin, cout, 3) + cout + conv(cout, cout, 3) + bn(cout)
    return n + (conv(cin, cout, 1) + bn(cout) if cin != cout else 0)


def ir50_params(blocks=(3, 4, 14), widths=(64, 128, 256)):
    total = conv(3, 64, 3) + bn(64) + 64  # stem conv, BN, PReLU
    cin = 64
    for num, cout in zip(blocks, widths):
        total += ir_unit(cin, cout) + (num - 1) * ir_unit(cout, cout)
        cin = cout
    return total


def inverted_residual(cin, cout, mid):
    expand = conv(cin, mid, 1) + bn(mid) + mid
    depthwise = conv(mid, mid, 3, groups=mid) + bn(mid) + mid
    linear = conv(mid, cout, 1) + bn(cout)
    return expand + depthwise + linear


def mobilefacenet_params():
    total = conv(3, 64, 3) + bn(64) + 64  # conv1
    total += conv(64, 64, 3, groups=64) + bn(64) + 64  # conv2, depthwise
    total += inverted_residual(64, 64, 128) * 5
    total += (
        inverted_residual(64, 128, 256) + inverted_residual(128, 128, 256) * 6
    )
    total += (
        inverted_residual(128, 128, 512) + inverted_residual(128, 128, 256) * 2
    )
    total += conv(128, 512, 1) + bn(512) + 512  # conv3
    return total


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def test_ir50_from_registry():
    model = MODELS.build(dict(type='IR50'))
    assert type(model) is IR50
    assert num_params(model) == ir50_params() == 17_611_968
    model.eval()
    with torch.no_grad():
        outs = model(torch.rand(2, 3, 112, 112))
    assert [tuple(o.shape) for o in outs] == [
        (2, 64, 56, 56),
        (2, 128, 28, 28),
        (2, 256, 14, 14),
    ]
    small = MODELS.build(
        dict(type='IR50', stage_blocks=(1, 2), stage_channels=(8, 16))
    )
    assert num_params(small) == ir50_params((1, 2), (8, 16))
    assert [tuple(o.shape) for o in small(torch.rand(1, 3, 32, 32))] == [
        (1, 8, 16, 16),
        (1, 16, 8, 8),
    ]


def test_mobilefacenet_from_registry():
    model = MODELS.build(dict(type='MobileFaceNet'))
    assert type(model) is MobileFaceNet
    assert num_params(model) == mobilefacenet_params() == 911_232
    model.eval()
    with torch.no_grad():
        outs = model(torch.rand(2, 3, 112, 112))
    assert [tuple(o.shape) for o in outs] == [
        (2, 64, 28, 28),
        (2, 128, 14, 14),
        (2, 512, 7, 7),
    ]

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""benchmark_train.py: the pieces whose arithmetic the figures rest on."""

import importlib.util
import os.path as osp

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def bench():
    path = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_train.py')
    spec = importlib.util.spec_from_file_location('benchmark_train', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_importtime_by_package(bench):
    # self times (us) summed by top-level package; header line skipped
    stderr = '\n'.join(
        [
            'import time: self [us] | cumulative | imported package',
            'import time:       100 |        100 |   torch._C',
            'import time:      2000 |       2100 | torch',
            'import time:       300 |        300 |     mmengine.utils',
            'import time:       500 |        800 |   mmengine',
            'import time:        40 |       2940 | fer_mm',
            'not an importtime line',
        ]
    )
    got = bench.importtime_by_package(stderr)
    assert got == pytest.approx(
        dict(torch=0.0021, mmengine=0.0008, fer_mm=0.00004)
    )


def test_parse_losses_sums_loss_keys_only(bench):
    losses = dict(
        loss_cls=torch.tensor([1.0, 3.0]),  # mean 2
        loss_aux=[torch.tensor(0.5), torch.tensor([1.0, 2.0])],  # 0.5+1.5
        accuracy=torch.tensor(100.0),
    )
    assert float(bench.parse_losses(losses)) == pytest.approx(4.0)


def test_strip_pretrained(bench):
    cfg = dict(
        backbone=dict(
            type='PosterV2',
            init_cfg=dict(type='Pretrained', checkpoint='a.pth'),
            ir50_init_cfg=dict(type='Pretrained', checkpoint='b.pth'),
            landmark_init_cfg=None,
        ),
        neck=dict(init_cfg=[dict(type='Kaiming'), dict(type='Pretrained')]),
        head=dict(init_cfg=dict(type='Normal', std=0.01)),
    )
    out = bench.strip_pretrained(cfg)
    assert 'init_cfg' not in out['backbone']
    assert out['backbone']['ir50_init_cfg'] is None
    assert out['neck']['init_cfg'] == [dict(type='Kaiming')]
    assert out['head']['init_cfg'] == dict(type='Normal', std=0.01)


def test_explicit_attention_equals_sdpa(bench):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 4, generator=g) for _ in range(3))
    bias = torch.randn(1, 3, 5, 5, generator=g)
    # by hand: softmax(q k^T / 2 + bias) v  (head dim 4: scale 1/2)
    w = torch.softmax(q @ k.transpose(-2, -1) / 2 + bias, dim=-1)
    torch.testing.assert_close(
        bench.explicit_attention(q, k, v, attn_mask=bias), w @ v
    )


def test_unknown_mode_is_refused(bench, capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(['cfg.py', '--modes', 'plain,turbo'])
    assert "unknown ['turbo']" in capsys.readouterr().err

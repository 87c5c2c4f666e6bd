# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Speed levers: channels_last, torch.compile, SDPA window attention, the
hook and config options that switch them, and the throughput arithmetic.

Expected values are computed independently: the contiguous / eager model is
the reference of the channels_last / compiled one, attention is written out
from the module's weights with plain tensor operations.
"""

import copy
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import fer_mm  # noqa: F401
from fer_mm.engine.speed import (
    ChannelsLastHook,
    achieved_gflops,
    channels_last_applies,
    channels_last_hazards,
    compile_available,
    convert_channels_last,
    fp32_flops_per_cycle,
    is_channels_last,
    optimizer_impl_kwargs,
    parse_channels_last,
    peak_gflops,
    setup_speed,
    train_flops_per_image,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DAN_CFG = osp.join(REPO, 'configs', 'dan', 'dan_resnet18_8xb32-40e_rafdb.py')


def dan_model(seed=0):
    cfg = Config.fromfile(DAN_CFG)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.pop('init_cfg', None)
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def labels(n, k=7):
    return [DataSample().set_gt_label(i % k) for i in range(n)]


def grads(model):
    return {
        n: p.grad.detach().clone()
        for n, p in model.named_parameters()
        if p.grad is not None
    }


# ---------------------------------------------------------------------------
# Arithmetic (hand cases)
def test_flop_arithmetic_by_hand():
    # DAN-R18 at 224: 2.23 GMACs forward. A training image = 3 forward
    # passes x 2 FLOP/MAC = 13.38 GFLOP; at 7 img/s: 93.66 GFLOP/s.
    assert train_flops_per_image(2.23e9) == pytest.approx(13.38e9)
    assert achieved_gflops(7.0, 2.23e9) == pytest.approx(93.66)
    # SAM: two forward/backward passes per step.
    assert achieved_gflops(7.0, 2.23e9, passes=2) == pytest.approx(187.32)
    # AVX2 + FMA: 2 units x 8 fp32 lanes x 2 FLOP = 32 per cycle;
    # 2 cores at 2.45 GHz: 156.8 GFLOP/s.
    assert fp32_flops_per_cycle(dict(avx2=True, avx512=False)) == 32
    assert fp32_flops_per_cycle(dict(avx2=True, avx512=True)) == 64
    assert fp32_flops_per_cycle(dict(avx2=False, avx512=False)) == 16
    assert peak_gflops(2, 2.45, 32) == pytest.approx(156.8)


def test_optimizer_impl_kwargs():
    assert optimizer_impl_kwargs(None) == {}
    assert optimizer_impl_kwargs('default') == {}
    assert optimizer_impl_kwargs('foreach') == dict(foreach=True)
    assert optimizer_impl_kwargs('fused') == dict(fused=True)
    with pytest.raises(ValueError, match="'fused'"):
        optimizer_impl_kwargs('fast')


@pytest.mark.parametrize('impl', ['foreach', 'fused'])
def test_optimizer_impl_same_update(impl):
    """foreach / fused SGD (momentum, weight decay) and Adam step the
    parameters as the default loop does, within float rounding."""
    torch.manual_seed(0)
    ref = [torch.randn(5, 3, requires_grad=True), torch.randn(4)]
    ref[1].requires_grad_(True)
    for cls, kw in (
        (torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=1e-4)),
        (torch.optim.Adam, dict(lr=1e-3)),
    ):
        a = [p.detach().clone().requires_grad_(True) for p in ref]
        b = [p.detach().clone().requires_grad_(True) for p in ref]
        oa = cls(a, **kw)
        ob = cls(b, **kw, **optimizer_impl_kwargs(impl))
        for step in range(3):
            for pa, pb in zip(a, b):
                g = torch.full_like(pa, 0.5 + step) * torch.arange(
                    pa.numel()
                ).view_as(pa)
                pa.grad, pb.grad = g.clone(), g.clone()
            oa.step()
            ob.step()
        for pa, pb, p0 in zip(a, b, ref):
            assert not torch.equal(pa, p0)  # the step did move them
            torch.testing.assert_close(pa, pb, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------------
# channels_last
def test_parse_channels_last():
    assert parse_channels_last('auto') == 'auto'
    assert parse_channels_last('on') is True
    assert parse_channels_last('OFF') is False
    assert parse_channels_last(True) is True
    with pytest.raises(ValueError, match='channels_last'):
        parse_channels_last('yes please')


def test_channels_last_same_logits_and_gradients():
    """A channels_last DAN gives the contiguous model's logits (within
    1e-5) and gradients (within 1e-4 relative), and its feature maps really
    are NHWC (the lever is in effect)."""
    a = dan_model()
    b = copy.deepcopy(a)
    convert_channels_last(b)
    assert is_channels_last(b) and not is_channels_last(a)
    torch.manual_seed(1)
    x = torch.randn(4, 3, 64, 64)

    a.eval(), b.eval()
    with torch.no_grad():
        la, lb = a(x), b(x)
        fb = b.backbone(x)[-1]
    assert fb.is_contiguous(memory_format=torch.channels_last)
    assert not fb.is_contiguous()
    torch.testing.assert_close(lb, la, rtol=0, atol=1e-5)

    a.train(), b.train()
    for m in (a, b):
        losses = m(x, labels(4), mode='loss')
        sum(v for k, v in losses.items() if 'loss' in k).backward()
    ga, gb = grads(a), grads(b)
    assert ga.keys() == gb.keys() and len(ga) > 50
    # Relative to each parameter's largest gradient, plus a floor of 1e-6
    # of the largest gradient of the model: the biases of convolutions and
    # linears followed by BatchNorm have zero gradient in exact arithmetic
    # (about 1e-9 here, pure rounding noise in both layouts).
    top = max(float(g.abs().max()) for g in ga.values())
    for name in ga:
        scale = float(ga[name].abs().max())
        err = float((gb[name] - ga[name]).abs().max())
        assert err <= 1e-4 * scale + 1e-6 * top, (name, err, scale)


def test_channels_last_applies():
    assert channels_last_applies(dan_model())
    assert not channels_last_applies(nn.Sequential(nn.Conv2d(3, 4, 3)))


def narrow_classifier(base):
    """A ResNet-18 classifier whose second stage's downsample is a stride-2
    1x1 convolution of ``base`` input channels."""
    return MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(
                type='ResNet',
                depth=18,
                base_channels=base,
                stem_channels=base,
                out_indices=(3,),
            ),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead', num_classes=7, in_channels=8 * base
            ),
        )
    )


def test_channels_last_hazards():
    """oneDNN's channels_last weight gradient of a strided 1x1 convolution
    with few input channels corrupts the heap (SIGSEGV / SIGABRT in CI,
    tests/test_tools/test_lsd_tools.py): 'auto' keeps such a model NCHW."""
    seq = nn.Sequential
    assert channels_last_hazards(seq(nn.Conv2d(4, 8, 1, stride=2))) == ['0']
    assert channels_last_hazards(seq(nn.Conv2d(8, 16, 1, stride=(2, 1))))
    for safe in (
        nn.Conv2d(16, 32, 1, stride=2),
        nn.Conv2d(4, 8, 3, stride=2),
        nn.Conv2d(4, 8, 1),
    ):
        assert channels_last_hazards(seq(safe)) == [], safe
    narrow = narrow_classifier(8)
    assert channels_last_hazards(narrow) == ['backbone.layer2.0.downsample.0']
    assert not channels_last_applies(narrow)
    assert channels_last_applies(narrow_classifier(16))
    assert channels_last_hazards(dan_model()) == []


@pytest.mark.parametrize('enabled,expected', [('auto', False), (True, True)])
def test_channels_last_hook_hazard(enabled, expected):
    net = narrow_classifier(4)
    runner = _Runner(net)
    hook = ChannelsLastHook(enabled)
    hook.before_train(runner)
    hook.before_val(runner)
    assert is_channels_last(net) is expected
    assert len(runner.logger.warnings) == 1  # said once
    assert 'backbone.layer2.0.downsample.0' in runner.logger.warnings[0]
    what = 'stays in NCHW' if enabled == 'auto' else 'converted anyway'
    assert what in runner.logger.warnings[0]


class _Runner:
    def __init__(self, model):
        self.model = model

        class _Log:
            def __init__(self):
                self.warnings = []

            def info(self, msg):
                self.msg = msg

            def warning(self, msg):
                self.warnings.append(msg)

        self.logger = _Log()


@pytest.mark.parametrize(
    'enabled,model,expected',
    [
        ('auto', 'dan', True),
        ('auto', 'seq', False),
        (True, 'seq', True),
        (False, 'dan', False),
    ],
)
def test_channels_last_hook(enabled, model, expected):
    net = dan_model() if model == 'dan' else nn.Sequential(nn.Conv2d(3, 4, 3))
    ref = copy.deepcopy(net)
    hook = ChannelsLastHook(enabled)
    hook.before_train(_Runner(net))
    assert is_channels_last(net) is expected
    # in place: the same parameter objects, the same values
    for (n, p), (_, q) in zip(net.named_parameters(), ref.named_parameters()):
        assert torch.equal(p, q), n


def test_setup_speed_config_keys():
    cfg = Config(dict(custom_hooks=[dict(type='RNGStateHook')]))
    setup_speed(cfg)
    assert cfg.channels_last == 'auto'
    assert cfg.custom_hooks == [
        dict(type='RNGStateHook'),
        dict(type='ChannelsLastHook', _scope_='mmpretrain', enabled='auto'),
    ]
    assert cfg.get('compile') is None
    # the CLI overrides the config key; twice does not add a second hook
    cfg.channels_last = True
    setup_speed(cfg, channels_last='off', compile=True)
    assert cfg.channels_last is False
    assert cfg.custom_hooks == [dict(type='RNGStateHook')]
    if compile_available():
        assert cfg.compile is True
    bad = Config(dict(channels_last='fast'))
    with pytest.raises(ValueError, match='config key channels_last'):
        setup_speed(bad)


def test_channels_last_hook_builds_in_an_mmagic_config():
    """tools/train.py adds the hook to every config; a generative config's
    default scope is mmagic, whose hook registry does not hold fer_mm's
    hook: the added entry must name its registry (it did not, and training
    the VAE-GAN with the stock tools/train.py failed with a KeyError)."""
    from mmengine.registry import HOOKS, DefaultScope

    import fer_mm.generative  # noqa: F401  (mmagic's registries)

    cfg = Config(dict(default_scope='mmagic', custom_hooks=[]))
    setup_speed(cfg)
    (entry,) = cfg.custom_hooks
    with DefaultScope.overwrite_default_scope('mmagic'):
        hook = HOOKS.build(copy.deepcopy(entry))
    assert isinstance(hook, ChannelsLastHook) and hook.enabled == 'auto'


# ---------------------------------------------------------------------------
# SDPA window attention vs the softmax written out
def test_window_attention_sdpa_equals_explicit():
    from fer_mm.models.utils.window_cross_attention import (
        WindowCrossAttention,
    )

    torch.manual_seed(0)
    wh = ww = 4
    attn = WindowCrossAttention(16, 2, (wh, ww))
    attn.init_weights()
    with torch.no_grad():
        attn.relative_position_bias_table.normal_(0, 0.5)
    x = torch.randn(3, wh * ww, 16, requires_grad=True)
    q = torch.randn(3, wh * ww, 16, requires_grad=True)
    out = attn(x, q)

    # explicit: k, v from kv(x); q split into heads without projection;
    # bias[h, i, j] = table[(hi - hj + wh - 1) * (2 ww - 1) + wi - wj +
    # ww - 1, h]; softmax(q k^T / sqrt(8) + bias) v; proj.
    params = {
        n: p.detach().clone().requires_grad_(True)
        for n, p in attn.named_parameters()
    }
    x2 = x.detach().clone().requires_grad_(True)
    q2 = q.detach().clone().requires_grad_(True)
    kv = x2 @ params['kv.weight'].T + params['kv.bias']
    k, v = kv[..., :16], kv[..., 16:]

    def heads(t):
        return t.reshape(3, wh * ww, 2, 8).transpose(1, 2)

    bias = torch.empty(2, wh * ww, wh * ww)
    index = torch.empty(wh * ww, wh * ww, dtype=torch.long)
    for i in range(wh * ww):
        for j in range(wh * ww):
            hi, wi, hj, wj = i // ww, i % ww, j // ww, j % ww
            index[i, j] = (hi - hj + wh - 1) * (2 * ww - 1) + wi - wj + ww - 1
    bias = params['relative_position_bias_table'][index].permute(2, 0, 1)
    logits = heads(q2) @ heads(k).transpose(-2, -1) / 8**0.5 + bias
    ref = logits.softmax(-1) @ heads(v)
    ref = ref.transpose(1, 2).reshape(3, wh * ww, 16)
    ref = ref @ params['proj.weight'].T + params['proj.bias']
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-5)

    w = torch.randn_like(out)
    (out * w).sum().backward()
    (ref * w).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad, rtol=0, atol=1e-5)
    torch.testing.assert_close(q.grad, q2.grad, rtol=0, atol=1e-5)
    for n, p in attn.named_parameters():
        torch.testing.assert_close(p.grad, params[n].grad, rtol=0, atol=1e-5)
        assert p.grad.abs().sum() > 0, n


# ---------------------------------------------------------------------------
# torch.compile
@pytest.mark.slow
@pytest.mark.skipif(
    not compile_available(),
    reason='torch.compile (inductor) on CPU needs a C++ compiler; none found',
)
def test_compiled_logits_equal_eager():
    """Inductor-compiled DAN: logits of one batch within 1e-4 of eager
    (reductions may be reordered), predictions identical."""
    torch._dynamo.reset()
    model = dan_model().eval()
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        eager = model(x)
        compiled = torch.compile(model)(x)
    torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-4)
    assert torch.equal(compiled.argmax(1), eager.argmax(1))

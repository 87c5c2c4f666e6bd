# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Training speed levers and the throughput arithmetic of the benchmark.

* **channels_last** (:class:`ChannelsLastHook`, config key ``channels_last``,
  ``tools/train.py --channels-last {auto,on,off}``): convolution weights in
  NHWC order. oneDNN then keeps the activations in NHWC through the network
  (a convolution with a channels_last weight returns a channels_last map), so
  the per-call reorders between PyTorch's NCHW and oneDNN's blocked layouts
  go away. ``'auto'`` converts mmpretrain classifiers that contain a
  ``Conv2d``, except CPU models with a strided 1x1 convolution of fewer than
  16 input channels (:func:`channels_last_hazards`: a oneDNN heap
  corruption); the values are the same up to float rounding (tested within
  1e-5).
* **compile**: mmengine's own ``compile`` config key (``torch.compile`` of
  ``model.train_step``), ``tools/train.py --compile``. Inductor needs a C++
  compiler on a CPU (:func:`compile_available`).
* **optimizer implementation**: ``foreach=True`` / ``fused=True`` in
  ``optim_wrapper.optimizer`` (torch's own arguments); PyTorch's default on a
  CPU is the per-parameter loop.

The FLOP arithmetic follows the convention of the tests: fvcore counts one
per multiply-accumulate (MAC) of a forward pass; a training step costs three
forward passes (forward, gradient of the input, gradient of the weights) and
one MAC is two floating-point operations.
"""

import shutil
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

CHANNELS_LAST_CHOICES = ('auto', True, False)


def has_conv2d(model: nn.Module) -> bool:
    """Whether any submodule is a 2-D convolution."""
    return any(isinstance(m, nn.Conv2d) for m in model.modules())


# oneDNN's AVX-512 weight-gradient kernel of a strided 1x1 convolution
# corrupts the heap in channels_last when the input has few channels (torch
# 2.14.1, oneDNN 3.12, AMD EPYC with avx512_bf16; reproduced with a lone
# nn.Conv2d(4, 8, 1, stride=2), input (15, 4, 12, 12), 2 OpenMP threads:
# SIGSEGV / "corrupted size vs. prev_size" within 2000 steps; clean with
# NCHW, one thread, batch 16, stride 1, a 3x3 kernel, ONEDNN_MAX_CPU_ISA=AVX2
# or 16, 20, 24, 32, 40, 64 input channels; 2, 3, 4, 8, 12 crash). The
# downsample of a ResNet's second stage is such a convolution when
# base_channels < 16 (the narrow LSD configs and the tiny test models).
CHANNELS_LAST_MIN_STRIDED_1X1_IN_CHANNELS = 16


def channels_last_hazards(model: nn.Module) -> List[str]:
    """Names of the CPU ``Conv2d`` that channels_last would send through
    the faulty oneDNN kernel: 1x1, strided, fewer than
    :data:`CHANNELS_LAST_MIN_STRIDED_1X1_IN_CHANNELS` input channels."""
    if is_model_wrapper(model):
        model = model.module
    return [
        name
        for name, m in model.named_modules()
        if isinstance(m, nn.Conv2d)
        and tuple(m.kernel_size) == (1, 1)
        and tuple(m.stride) != (1, 1)
        and m.in_channels < CHANNELS_LAST_MIN_STRIDED_1X1_IN_CHANNELS
        and m.weight.device.type == 'cpu'
    ]


def channels_last_applies(model: nn.Module) -> bool:
    """``'auto'`` rule: an mmpretrain classifier with a ``Conv2d`` and none
    of the :func:`channels_last_hazards`.

    Generative models (mmagic) are left alone: their transposed
    convolutions and instance norms were never measured in NHWC.
    """
    from mmpretrain.models.classifiers import BaseClassifier

    if is_model_wrapper(model):
        model = model.module
    return (
        isinstance(model, BaseClassifier)
        and has_conv2d(model)
        and not channels_last_hazards(model)
    )


def parse_channels_last(value) -> Union[str, bool]:
    """``'auto'``, True or False from a config / CLI value."""
    if isinstance(value, str):
        key = value.lower()
        table = {'auto': 'auto', 'on': True, 'true': True, 'off': False}
        table['false'] = False
        if key in table:
            return table[key]
    elif value in (True, False):
        return bool(value)
    raise ValueError(
        "channels_last must be 'auto', True/'on' or False/'off', got "
        f'{value!r}'
    )


def convert_channels_last(model: nn.Module) -> nn.Module:
    """Put every 4-D parameter and buffer of ``model`` in channels_last,
    in place (the parameter objects stay the same, so an optimizer built
    before keeps working)."""
    return model.to(memory_format=torch.channels_last)


def is_channels_last(model: nn.Module) -> bool:
    """Whether every 4-D parameter is channels_last."""
    weights = [p for p in model.parameters() if p.dim() == 4]
    return bool(weights) and all(
        p.is_contiguous(memory_format=torch.channels_last) for p in weights
    )


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Convert the model to channels_last before training / evaluation.

    Added by ``tools/train.py`` (see :func:`setup_speed`); during training
    it also covers the validation loop. The inputs need no conversion: the first
    convolution returns a channels_last map when its weight is one.
    Conversion happens in ``before_train`` (after weight initialisation and
    resuming, which copy into the parameters in place) and
    ``before_val`` / ``before_test``. ``'auto'`` leaves a CPU model with a
    :func:`channels_last_hazards` convolution in NCHW (and says so).

    Args:
        enabled (str | bool): ``'auto'`` (mmpretrain classifiers with a
            ``Conv2d``), True (any model) or False. Defaults to ``'auto'``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, enabled: Union[str, bool] = 'auto') -> None:
        self.enabled = parse_channels_last(enabled)
        self.converted = False
        self.warned = False

    def _convert(self, runner) -> None:
        model = runner.model
        if self.enabled is False or self.converted:
            return
        hazards = channels_last_hazards(model)
        if hazards and not self.warned:
            self.warned = True
            what = (
                'stays in NCHW'
                if self.enabled == 'auto'
                else 'converted anyway (channels_last=True)'
            )
            runner.logger.warning(
                f'ChannelsLastHook: model {what}: oneDNN corrupts memory in '
                'the weight gradient of a strided 1x1 convolution with '
                f'fewer than {CHANNELS_LAST_MIN_STRIDED_1X1_IN_CHANNELS} '
                f'input channels in channels_last on a CPU ({hazards[0]}'
                + (f' and {len(hazards) - 1} more' if len(hazards) > 1 else '')
                + ')'
            )
        if self.enabled == 'auto' and not channels_last_applies(model):
            return
        if not self.converted:
            convert_channels_last(model)
            self.converted = True
            runner.logger.info('ChannelsLastHook: model in channels_last')

    def before_train(self, runner) -> None:
        self._convert(runner)

    def before_val(self, runner) -> None:
        self._convert(runner)

    def before_test(self, runner) -> None:
        self._convert(runner)


def setup_speed(
    cfg,
    channels_last: Union[str, bool, None] = None,
    compile: Union[bool, dict, None] = None,
) -> None:
    """Apply the speed options to a config (``tools/train.py``).

    Args:
        cfg (Config): The config, changed in place.
        channels_last: CLI value; None keeps the config's ``channels_last``
            key (``'auto'`` when absent).
        compile: CLI value; None keeps the config's ``compile`` key
            (mmengine's; off when absent). True compiles ``train_step``.
    """
    value = channels_last
    if value is None:
        value = cfg.get('channels_last', 'auto')
    try:
        value = parse_channels_last(value)
    except ValueError as err:
        raise ValueError(f'config key channels_last: {err}') from None
    cfg.channels_last = value
    hooks = list(cfg.get('custom_hooks') or [])
    hooks = [
        h
        for h in hooks
        if not (isinstance(h, dict) and h.get('type') == 'ChannelsLastHook')
    ]
    if value is not False:
        # _scope_: the hook lives in mmpretrain's registry, and a generative
        # config's default scope (mmagic) would not find it
        hooks.append(
            dict(type='ChannelsLastHook', _scope_='mmpretrain', enabled=value)
        )
    cfg.custom_hooks = hooks
    if compile is not None:
        cfg.compile = compile
    if cfg.get('compile') and not compile_available():
        raise RuntimeError(
            'compile: torch.compile (inductor) on a CPU needs a C++ '
            'compiler (g++ or clang++ on PATH, or CXX); none was found'
        )


def add_speed_args(parser) -> None:
    """``--channels-last`` and ``--compile`` of ``tools/train.py``."""
    parser.add_argument(
        '--channels-last',
        choices=('auto', 'on', 'off'),
        default=None,
        help="convolution weights and maps in NHWC order; 'auto' (the "
        'default, or the config key channels_last) converts mmpretrain '
        'classifiers that have a Conv2d',
    )
    parser.add_argument(
        '--compile',
        action='store_true',
        default=None,
        help='torch.compile the training step (mmengine compile=True; '
        'inductor, needs a C++ compiler on a CPU; the first steps compile)',
    )


def compile_available() -> bool:
    """Whether inductor can build its CPU kernels (a C++ compiler)."""
    import os

    if torch.cuda.is_available():
        return True
    cxx = os.environ.get('CXX')
    candidates = ([cxx] if cxx else []) + ['g++', 'c++', 'clang++']
    return any(shutil.which(c) for c in candidates if c)


def optimizer_impl_kwargs(impl: Optional[str]) -> dict:
    """torch.optim arguments of an implementation choice.

    ``None`` / ``'default'``: what PyTorch picks (the per-parameter loop on
    a CPU); ``'foreach'``: the multi-tensor kernels; ``'fused'``: the fused
    kernels.
    """
    table = {
        None: {},
        'default': {},
        'foreach': dict(foreach=True),
        'fused': dict(fused=True),
    }
    if impl not in table:
        raise ValueError(
            f"optimizer implementation must be 'default', 'foreach' or "
            f"'fused', got {impl!r}"
        )
    return dict(table[impl])


# ---------------------------------------------------------------------------
# Throughput arithmetic
FLOPS_PER_MAC = 2
PASSES_PER_STEP = 3  # forward, input gradient, weight gradient


def train_flops_per_image(fwd_macs: float, passes: int = 1) -> float:
    """FLOPs of one training image: ``passes`` forward/backward passes per
    step (2 for SAM), each three forward passes of ``fwd_macs`` MACs, two
    FLOPs per MAC."""
    return FLOPS_PER_MAC * PASSES_PER_STEP * passes * float(fwd_macs)


def achieved_gflops(
    img_per_s: float, fwd_macs: float, passes: int = 1
) -> float:
    """Achieved GFLOP/s of a training run at ``img_per_s``."""
    return img_per_s * train_flops_per_image(fwd_macs, passes) / 1e9


def fp32_flops_per_cycle(caps: dict) -> int:
    """Nominal fp32 FLOPs per cycle and core: two FMA units of the widest
    vector width (AVX-512: 16 lanes, AVX2: 8, else SSE: 4), two FLOPs per
    FMA. Some AVX-512 CPUs have a single 512-bit FMA unit: an upper bound."""
    lanes = 16 if caps.get('avx512') else 8 if caps.get('avx2') else 4
    return 2 * lanes * 2


def peak_gflops(cores: int, ghz: float, flops_per_cycle: int) -> float:
    """Nominal peak: cores x clock x FLOPs per cycle."""
    return cores * ghz * flops_per_cycle


def cpu_ghz() -> Optional[float]:
    """Clock from /proc/cpuinfo (``cpu MHz`` of the first core), if any."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('cpu MHz'):
                    return float(line.split(':')[1]) / 1000
    except (OSError, ValueError):
        pass
    return None

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Mixed precision chosen by the hardware.

On a GPU, ``--amp`` means mmengine's fp16 AMP. On a CPU, bf16 autocast pays
only where the CPU computes bf16 natively (AMX or AVX-512-BF16): there a
training step is 1.5-2.5x faster than fp32. Elsewhere (e.g. AVX2-only CPUs)
PyTorch emulates bf16 and the same step is about 24x *slower*. So every fer_mm
place that enables autocast asks :func:`resolve_autocast_dtype`, which keeps
fp32 on a CPU without native bf16 and says so in one log line.

``precision`` values: ``'auto'`` (the rule above), ``'bfloat16'`` / ``'bf16'``
and ``'float16'`` / ``'fp16'`` (forced, whatever the hardware), ``'float32'``
/ ``'fp32'`` (no autocast). The environment variable ``FER_MM_AMP_DTYPE``
overrides ``'auto'`` for tools that do not expose the choice.
"""

import os
from contextlib import contextmanager, nullcontext
from typing import Optional, Union

import torch
from mmengine.logging import print_log

_ALIASES = {
    'auto': 'auto',
    'bf16': 'bfloat16',
    'bfloat16': 'bfloat16',
    'fp16': 'float16',
    'float16': 'float16',
    'half': 'float16',
    'fp32': 'float32',
    'float32': 'float32',
    'none': 'float32',
}
PRECISION_CHOICES = ('auto', 'bfloat16', 'float16', 'float32')
ENV_VAR = 'FER_MM_AMP_DTYPE'


def normalize_precision(precision: Union[str, torch.dtype, None]) -> str:
    """Canonical name of a precision request (``'auto'`` or a dtype name)."""
    if precision is None:
        return 'auto'
    if isinstance(precision, torch.dtype):
        name = str(precision).replace('torch.', '')
    else:
        name = str(precision).lower()
    if name not in _ALIASES:
        raise ValueError(
            f'precision must be one of {PRECISION_CHOICES} (or bf16/fp16/'
            f'fp32), got {precision!r}'
        )
    return _ALIASES[name]


def cpu_capabilities() -> dict:
    """What this CPU offers PyTorch: ISA level and native bf16 units."""

    def probe(name):
        fn = getattr(torch.cpu, name, None)
        try:
            return bool(fn()) if fn is not None else False
        except Exception:  # noqa: BLE001 (a probe must never crash a run)
            return False

    try:
        isa = torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001
        isa = 'unknown'
    return dict(
        isa=isa,
        avx2=probe('_is_avx2_supported'),
        avx512=probe('_is_avx512_supported'),
        avx512_bf16=probe('_is_avx512_bf16_supported'),
        amx_tile=probe('_is_amx_tile_supported'),
        threads=torch.get_num_threads(),
    )


def cpu_has_native_bf16() -> bool:
    """True where the CPU has AMX tiles or AVX-512-BF16 instructions."""
    caps = cpu_capabilities()
    return caps['amx_tile'] or caps['avx512_bf16']


def describe_cpu() -> str:
    """One line for logs and benchmark headers."""
    caps = cpu_capabilities()
    model = ''
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    flags = ', '.join(
        f'{k} {"yes" if caps[k] else "no"}'
        for k in ('avx2', 'avx512', 'avx512_bf16', 'amx_tile')
    )
    return (
        f'{model or "CPU"} (torch ISA {caps["isa"]}; {flags}; '
        f'{caps["threads"]} threads)'
    )


def resolve_autocast_dtype(
    device_type: str = 'cpu',
    precision: Union[str, torch.dtype, None] = 'auto',
    log: bool = True,
) -> Optional[torch.dtype]:
    """The autocast dtype to use, or None for plain float32.

    Args:
        device_type (str): ``'cpu'`` or ``'cuda'``.
        precision (str | torch.dtype | None): See the module docstring.
            Defaults to 'auto'.
        log (bool): Print one line saying what was chosen and why when
            'auto' falls back to fp32. Defaults to True.

    Returns:
        torch.dtype | None: bfloat16 / float16, or None (no autocast).
    """
    name = normalize_precision(precision)
    if name == 'auto' and os.environ.get(ENV_VAR):
        name = normalize_precision(os.environ[ENV_VAR])
    if name == 'float32':
        return None
    if name != 'auto':
        return getattr(torch, name)
    if device_type != 'cpu':
        return torch.float16
    if cpu_has_native_bf16():
        return torch.bfloat16
    if log:
        print_log(
            'mixed precision: this CPU has no native bf16 (neither AMX nor '
            'AVX-512-BF16), where bf16 autocast is emulated and many times '
            'slower than fp32; running in float32. Force it with '
            f'--amp-dtype bfloat16 (or {ENV_VAR}=bfloat16).',
            logger='current',
        )
    return None


@contextmanager
def fer_autocast(
    device_type: str = 'cpu',
    precision: Union[str, torch.dtype, None] = 'auto',
    log: bool = False,
):
    """``torch.autocast`` with the dtype :func:`resolve_autocast_dtype`
    chooses; a no-op where it chooses fp32."""
    dtype = resolve_autocast_dtype(device_type, precision, log=log)
    ctx = (
        nullcontext()
        if dtype is None
        else torch.autocast(device_type=device_type, dtype=dtype)
    )
    with ctx:
        yield dtype

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from contextlib import contextmanager
from typing import Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast
from mmpretrain.registry import OPTIM_WRAPPERS

from fer_mm.utils.precision import resolve_autocast_dtype


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Mixed-precision training by autocast alone, on any device.

    mmengine's ``AmpOptimWrapper`` refuses to run without a GPU, although
    ``torch.autocast`` supports the CPU. With bfloat16 no loss scaling is
    needed (bf16 has float32's exponent range), so this wrapper only enters
    :func:`mmengine.runner.amp.autocast` around the forward pass; gradients
    and the optimizer step stay in float32.

    The default ``dtype='auto'`` asks
    :func:`fer_mm.utils.precision.resolve_autocast_dtype`: bf16 only on CPUs
    with native bf16 (AMX / AVX-512-BF16, where a training step is 1.5-2.5x
    faster), float32 without autocast elsewhere (emulated bf16 is ~24x
    slower), with one log line saying so. A dtype name forces that dtype.

    ``tools/train.py --amp`` selects it when no GPU is present.

    Args:
        dtype (str or torch.dtype): 'auto', 'bfloat16', 'float16' or
            'float32' (aliases bf16 / fp16 / fp32). Defaults to 'auto'.
        **kwargs: Arguments of :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'auto', **kwargs):
        super().__init__(**kwargs)
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
        self.cast_dtype = resolve_autocast_dtype(device, dtype)

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model):
            if self.cast_dtype is None:
                yield
            else:
                with autocast(dtype=self.cast_dtype):
                    yield

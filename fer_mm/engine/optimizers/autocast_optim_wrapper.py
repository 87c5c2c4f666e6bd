# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from contextlib import contextmanager
from typing import Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.runner.amp import autocast
from mmpretrain.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Mixed-precision training by autocast alone, on any device.

    mmengine's ``AmpOptimWrapper`` refuses to run without a GPU, although
    ``torch.autocast`` supports the CPU. With bfloat16 no loss scaling is
    needed (bf16 has float32's exponent range), so this wrapper only enters
    :func:`mmengine.runner.amp.autocast` around the forward pass; gradients
    and the optimizer step stay in float32. On CPUs with AMX-BF16 this makes
    convolution-heavy training steps several times faster.

    ``tools/train.py --amp`` selects it when no GPU is present.

    Args:
        dtype (str or torch.dtype): Autocast dtype. Defaults to 'bfloat16'.
        **kwargs: Arguments of :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype: Union[str, torch.dtype] = 'bfloat16', **kwargs):
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            if dtype not in ('bfloat16', 'float16', 'float32'):
                raise ValueError(
                    'AutocastOptimWrapper: dtype must be one of '
                    f"'bfloat16', 'float16', 'float32', got "
                    f'{dtype!r}'
                )
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), autocast(dtype=self.cast_dtype):
            yield

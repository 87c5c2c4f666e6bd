# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .autocast_optim_wrapper import AutocastOptimWrapper

__all__ = ['AutocastOptimWrapper']

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .autocast_optim_wrapper import AutocastOptimWrapper
from .sam_optim_wrapper import SAMOptimWrapper

__all__ = ['AutocastOptimWrapper', 'SAMOptimWrapper']

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .arbex_head import ARBExHead
from .dan_head import DANHead
from .lsd_multitask_head import LSDMultiTaskHead

__all__ = ['ARBExHead', 'DANHead', 'LSDMultiTaskHead']

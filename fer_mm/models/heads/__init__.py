# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .arbex_head import ARBExHead
from .conv_pool_head import ConvPoolClsHead
from .dan_head import DANHead
from .lsd_multitask_head import LSDMultiTaskHead

__all__ = ['ARBExHead', 'ConvPoolClsHead', 'DANHead', 'LSDMultiTaskHead']

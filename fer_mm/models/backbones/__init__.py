# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .ir50 import IR50, BottleneckIR
from .mini_xception import MiniXception
from .mobilefacenet import MobileFaceNet
from .poster_v2 import PosterV2

__all__ = [
    'BottleneckIR',
    'IR50',
    'MiniXception',
    'MobileFaceNet',
    'PosterV2',
]

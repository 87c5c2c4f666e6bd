# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .batch_augments import MixAugment
from .data_preprocessor import FERDataPreprocessor, hard_label_mask
from .two_view_preprocessor import TwoViewDataPreprocessor
from .window_cross_attention import (
    WindowCrossAttention,
    WindowCrossAttentionBlock,
)

__all__ = [
    'MixAugment',
    'FERDataPreprocessor',
    'hard_label_mask',
    'TwoViewDataPreprocessor',
    'WindowCrossAttention',
    'WindowCrossAttentionBlock',
]

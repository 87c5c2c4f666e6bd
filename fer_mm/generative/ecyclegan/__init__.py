# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""ECycleGAN: expression-to-expression translation for FER augmentation."""

from .ecyclegan import ECycleGAN
from .rrdb_generator import RRDBGenerator, ScaledResidualDenseBlock, ScaledRRDB
from .unpaired_expression_dataset import UnpairedExpressionDataset

__all__ = [
    'ECycleGAN',
    'RRDBGenerator',
    'ScaledRRDB',
    'ScaledResidualDenseBlock',
    'UnpairedExpressionDataset',
]

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .fer_classifier import FERClassifier
from .lsd_multitask import LSDMultiTaskClassifier, probe_channels

__all__ = ['FERClassifier', 'LSDMultiTaskClassifier', 'probe_channels']

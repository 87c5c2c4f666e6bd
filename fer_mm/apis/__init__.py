# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .fer_inferencer import FERInferencer, build_detector
from .model import build_classifier, list_models

__all__ = [
    'FERInferencer',
    'build_classifier',
    'build_detector',
    'list_models',
]

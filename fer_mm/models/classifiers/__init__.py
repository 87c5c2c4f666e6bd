# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .fer_classifier import FERClassifier

__all__ = ['FERClassifier']

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .fer_metric import FERMetric, save_confusion_matrix

__all__ = ['FERMetric', 'save_confusion_matrix']

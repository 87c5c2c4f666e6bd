# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .abaw_submission import ABAWExprSubmission, write_abaw_expr_predictions
from .fer_metric import FERMetric, save_confusion_matrix

__all__ = [
    'ABAWExprSubmission',
    'write_abaw_expr_predictions',
    'FERMetric',
    'save_confusion_matrix',
]

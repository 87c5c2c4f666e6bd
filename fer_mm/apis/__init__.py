# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .fer_inferencer import FERInferencer, build_detector
from .launch import (
    add_amp_args,
    add_common_args,
    load_config,
    set_metric_out_dirs,
    setup_amp,
    setup_launcher,
    setup_test_amp,
)
from .model import build_classifier, list_models

__all__ = [
    'FERInferencer',
    'build_classifier',
    'build_detector',
    'list_models',
    'add_amp_args',
    'add_common_args',
    'load_config',
    'set_metric_out_dirs',
    'setup_amp',
    'setup_launcher',
    'setup_test_amp',
]

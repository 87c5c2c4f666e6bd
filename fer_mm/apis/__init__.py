# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .launch import (
    add_amp_args,
    add_common_args,
    load_config,
    set_metric_out_dirs,
    setup_amp,
    setup_launcher,
    setup_test_amp,
)

__all__ = [
    'add_amp_args',
    'add_common_args',
    'load_config',
    'set_metric_out_dirs',
    'setup_amp',
    'setup_launcher',
    'setup_test_amp',
]

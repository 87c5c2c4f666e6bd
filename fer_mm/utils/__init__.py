# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .checkpoint import (
    CorruptCheckpointError,
    UnsafeCheckpointError,
    checkpoint_safe_globals,
    disable_weights_only_loading,
    enable_weights_only_loading,
    load_checkpoint_file,
    register_checkpoint_loader,
    weights_only_loading_enabled,
)
from .dist import (
    adapt_cfg_to_cpu_distributed,
    init_cpu_distributed,
    sync_bn_to_batch_norm,
)
from .precision import (
    PRECISION_CHOICES,
    cpu_capabilities,
    cpu_has_native_bf16,
    describe_cpu,
    fer_autocast,
    resolve_autocast_dtype,
)
from .setup_env import register_all_modules

__all__ = [
    'CorruptCheckpointError',
    'UnsafeCheckpointError',
    'checkpoint_safe_globals',
    'disable_weights_only_loading',
    'enable_weights_only_loading',
    'load_checkpoint_file',
    'register_checkpoint_loader',
    'weights_only_loading_enabled',
    'adapt_cfg_to_cpu_distributed',
    'init_cpu_distributed',
    'sync_bn_to_batch_norm',
    'register_all_modules',
    'PRECISION_CHOICES',
    'cpu_capabilities',
    'cpu_has_native_bf16',
    'describe_cpu',
    'fer_autocast',
    'resolve_autocast_dtype',
]

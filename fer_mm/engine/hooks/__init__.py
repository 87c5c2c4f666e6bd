# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .dataset_fingerprint_hook import DatasetFingerprintHook
from .original_data_only_hook import OriginalDataOnlyHook
from .progress_bar_hook import ProgressBarHook
from .rng_state_hook import RNGStateHook

__all__ = [
    'AtomicCheckpointHook',
    'DatasetFingerprintHook',
    'OriginalDataOnlyHook',
    'ProgressBarHook',
    'RNGStateHook',
]

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Epoch samplers of fer_mm, registered in mmpretrain's ``DATA_SAMPLERS``."""

from .bagging import BaggingSampler, bagging_subset
from .class_balanced import ClassBalancedSampler
from .video_refinement import VideoRefinementSampler

__all__ = [
    'BaggingSampler',
    'ClassBalancedSampler',
    'VideoRefinementSampler',
    'bagging_subset',
]

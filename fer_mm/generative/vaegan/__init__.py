# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .encoder import VAEEncoder
from .latent_augment import ClassCovarianceAugmenter, class_latent_statistics
from .vaegan import VAEGAN

__all__ = [
    'ClassCovarianceAugmenter',
    'VAEEncoder',
    'VAEGAN',
    'class_latent_statistics',
]

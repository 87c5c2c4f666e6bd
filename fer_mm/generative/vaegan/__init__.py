# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .encoder import VAEEncoder
from .latent_augment import ClassCovarianceAugmenter, class_latent_statistics
from .online_augment import VAEGANLatentAugment, load_vaegan
from .vaegan import VAEGAN

__all__ = [
    'ClassCovarianceAugmenter',
    'VAEEncoder',
    'VAEGAN',
    'VAEGANLatentAugment',
    'class_latent_statistics',
    'load_vaegan',
]

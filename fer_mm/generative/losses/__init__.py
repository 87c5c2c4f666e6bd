# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .kl_divergence import GaussianKLLoss, gaussian_kl_divergence
from .perceptual import LocalPerceptualVGG, LocalVGGPerceptualLoss

__all__ = [
    'GaussianKLLoss',
    'LocalPerceptualVGG',
    'LocalVGGPerceptualLoss',
    'gaussian_kl_divergence',
]

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from .mixaugment import MixAugment

__all__ = ['MixAugment']

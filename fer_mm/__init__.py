# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""fer_mm: facial expression recognition for the OpenMMLab ecosystem.

Importing the package registers its datasets, metrics, models and engine
components in mmpretrain's registries and installs the weights-only
checkpoint loader. Generative models (:mod:`fer_mm.generative`) import mmagic
and are only registered when that sub-package is imported.
"""

import os

# albumentations (imported by mmpretrain) checks PyPI for updates at import.
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

from . import datasets, engine, evaluation, models  # noqa: F401
from .utils import register_checkpoint_loader
from .version import __version__

register_checkpoint_loader()

__all__ = ['__version__']

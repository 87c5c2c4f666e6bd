# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""fer_mm: facial expression recognition for the OpenMMLab ecosystem.

Importing the package registers its datasets, metrics, models and engine
components in mmpretrain's registries, and changes nothing else in the
process: weights-only checkpoint loading (:mod:`fer_mm.utils.checkpoint`) is
enabled by fer_mm's tools and configs, or by an explicit
:func:`fer_mm.utils.enable_weights_only_loading`. Generative models
(:mod:`fer_mm.generative`) import mmagic and are only registered when that
sub-package is imported.
"""

import os
from contextlib import contextmanager

from .version import __version__


@contextmanager
def _no_albumentations_update_check():
    """Skip albumentations' PyPI update check while fer_mm imports it.

    mmpretrain imports albumentations, which queries PyPI at import unless
    ``NO_ALBUMENTATIONS_UPDATE`` is set. The variable is set for the imports
    below only and put back as it was afterwards, so the process (and its
    children) keep the user's environment.
    """
    key = 'NO_ALBUMENTATIONS_UPDATE'
    before = os.environ.get(key)
    os.environ.setdefault(key, '1')
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


# In fer_mm's own tools and demos only: the stack's known import-time
# warnings (mmcv-lite, pkg_resources) are ignored; see fer_mm.utils.quiet.
from .utils.quiet import filter_known_warnings  # noqa: E402

filter_known_warnings()

with _no_albumentations_update_check():
    from . import datasets, engine, evaluation, models  # noqa: F401
    from .model_zoo import register_model_zoo

    register_model_zoo()

__all__ = ['__version__']

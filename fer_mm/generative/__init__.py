# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Generative augmentation models in mmagic's registry.

The only fer_mm sub-package that imports mmagic: importing it registers the
VAE-GAN (:mod:`.vaegan`), ECycleGAN (:mod:`.ecyclegan`) and their losses
(:mod:`.losses`) in ``mmagic.registry``. mmagic configs list it in
``custom_imports = dict(imports=['fer_mm', 'fer_mm.generative'])``.
"""

from . import ecyclegan, losses, vaegan  # noqa: F401

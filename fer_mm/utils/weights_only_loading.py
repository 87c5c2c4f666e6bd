# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Importing this module enables weights-only checkpoint loading.

It exists for configs: ``custom_imports`` can only import modules, so fer_mm's
configs list this module to make every local checkpoint the runner loads
(``load_from``, ``resume``) go through
:func:`fer_mm.utils.checkpoint.load_checkpoint_file`, whichever program
reads the config (fer_mm's tools, mmpretrain's ``tools/train.py``,
``mmpretrain.apis.init_model``)::

    custom_imports = dict(
        imports=['fer_mm', 'fer_mm.utils.weights_only_loading'],
        allow_failed_imports=False)

In Python code, call :func:`fer_mm.utils.enable_weights_only_loading`
instead.
"""

from .checkpoint import enable_weights_only_loading

enable_weights_only_loading()

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register fer_mm's and mmpretrain's modules into the registries.

    Importing :mod:`fer_mm` already does this (which is how configs load it
    through ``custom_imports``); call this in scripts that build modules
    without a config.

    Args:
        init_default_scope (bool): Also make ``mmpretrain`` the default
            registry scope. Defaults to True.
    """
    from mmpretrain.utils import register_all_modules as mmpretrain_register

    import fer_mm.datasets  # noqa: F401
    import fer_mm.engine  # noqa: F401
    import fer_mm.evaluation  # noqa: F401

    mmpretrain_register(init_default_scope=init_default_scope)

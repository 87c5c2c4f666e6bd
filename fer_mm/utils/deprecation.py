# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Old registry names and keyword arguments kept for one release.

A renamed class stays buildable under its old name: :func:`deprecated_alias`
registers a thin subclass that warns (``DeprecationWarning``) when it is
constructed and behaves as the new class otherwise. :func:`renamed_kwarg`
maps an old keyword argument onto its new name with the same warning.
"""

import warnings
from typing import Any, Dict, Type

from mmengine.registry import Registry

__all__ = ['deprecated_alias', 'renamed_kwarg']


def deprecated_alias(
    registry: Registry, old_name: str, new_cls: Type, removal: str = '0.3'
) -> Type:
    """Register ``old_name`` in ``registry`` as a warning subclass of
    ``new_cls``.

    Args:
        registry (Registry): The registry ``new_cls`` is registered in.
        old_name (str): The name configs used before the rename.
        new_cls (type): The renamed class.
        removal (str): The fer_mm version that drops the old name.

    Returns:
        type: The alias class (also exported under ``old_name`` so that
        ``from fer_mm.models import OldName`` keeps working).
    """
    message = (
        f'{old_name} is deprecated and will be removed in fer_mm {removal}; '
        f"use type='{new_cls.__name__}' (same arguments)"
    )

    def __init__(self, *args, **kwargs):
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        new_cls.__init__(self, *args, **kwargs)

    alias = type(
        old_name,
        (new_cls,),
        {
            '__init__': __init__,
            '__doc__': f'Deprecated alias of :class:`{new_cls.__name__}`.',
            '__module__': new_cls.__module__,
        },
    )
    registry.register_module(name=old_name, module=alias)
    return alias


_MISSING = object()


def renamed_kwarg(
    owner: str,
    kwargs: Dict[str, Any],
    old: str,
    new: str,
    new_value: Any,
    new_default: Any,
) -> Any:
    """Return the value of keyword ``new``, accepting the old name ``old``.

    ``kwargs`` is the caller's ``**kwargs``; ``old`` is popped from it. If
    the old keyword is given, a ``DeprecationWarning`` names the new one and
    its value is used; giving both (``new_value`` is not the ``new_default``
    object) is an error.

    Args:
        owner (str): Class name used in the messages.
        kwargs (dict): The caller's remaining keyword arguments.
        old (str): Deprecated keyword.
        new (str): Its replacement.
        new_value: Value the caller received for ``new``.
        new_default: The default object of ``new`` (compared by identity).
    """
    old_value = kwargs.pop(old, _MISSING)
    if old_value is _MISSING:
        return new_value
    if new_value is not new_default:
        raise TypeError(
            f'{owner}: got both {new}= and its deprecated name {old}=; '
            f'give {new}= only'
        )
    warnings.warn(
        f'{owner}: the keyword {old}= is deprecated, use {new}=',
        DeprecationWarning,
        stacklevel=3,
    )
    return old_value

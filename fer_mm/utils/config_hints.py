# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Error messages that name the config change that fixes them."""

import re
from typing import Optional

_UNEXPECTED = re.compile(
    r"(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'"
)


def _find(node, cls: str, key: str, path: str):
    if isinstance(node, dict):
        kind = str(node.get('type', '')).split('.')[-1]
        if kind == cls and key in node:
            return path
        for name, value in node.items():
            found = _find(value, cls, key, f'{path}.{name}')
            if found:
                return found
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found = _find(value, cls, key, f'{path}[{i}]')
            if found:
                return found
    return None


def merged_keys_hint(
    err: Exception, cfg, root: str = 'model'
) -> Optional[str]:
    """Explain ``X.__init__() got an unexpected keyword argument 'k'``.

    mmengine merges a derived config's dict into its base's: a part whose
    ``type`` is replaced keeps the base part's other keys (a
    ``LinearClsHead``'s ``loss`` and ``topk`` inside an ``ARBExHead``, say),
    and building it fails. If ``cfg`` (the model config) holds a dict of
    type X with the key k, the hint names the fix, ``_delete_=True``.

    Args:
        err (Exception): The error raised while building.
        cfg (dict): The config that was built.
        root (str): Its name in the whole config. Defaults to 'model'.

    Returns:
        str | None: The hint, or None when the error is of another kind.
    """
    match = _UNEXPECTED.search(str(err))
    if not match or '_delete_=True' in str(err):
        return None
    cls, key = match.groups()
    where = _find(cfg, cls, key, root)
    if where is None:
        return None
    part = where.rsplit('.', 1)[-1]
    return (
        f'{where} has the type {cls} and a key {key!r} it does not take. If '
        f"that key comes from the base config's {part} (mmengine merges a "
        f'derived config into its base), replace the whole {part}: '
        f"{part}=dict(_delete_=True, type='{cls}', ...) drops the base's "
        'other keys.'
    )


def with_hint(err: Exception, cfg, root: str = 'model') -> Exception:
    """``err`` again, its message extended by :func:`merged_keys_hint`
    (the same error when there is no hint)."""
    hint = merged_keys_hint(err, cfg, root)
    if hint is None:
        return err
    new = type(err)(f'{err}. {hint}')
    new.__cause__ = err
    return new

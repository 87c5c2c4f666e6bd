# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""fer_mm's registries: children of mmpretrain's, in the scope ``fer_mm``.

fer_mm registers its components in mmpretrain's registries (a config with
``default_scope = 'mmpretrain'`` finds them). These children exist for
configs that inherit ``fer_mm::`` bases: mmengine marks the dicts of such a
base with ``_scope_='fer_mm'`` and looks for ``fer_mm.registry`` and a
registry of that scope when it builds them. Each child is empty and finds
everything through its parent, so a ``fer_mm``-scoped dict builds exactly
what the same dict builds in the ``mmpretrain`` scope.
"""

from mmengine.registry import Registry
from mmpretrain import registry as _mmpretrain

_NAMES = [
    name
    for name in dir(_mmpretrain)
    if name.isupper()
    and not name.startswith('MMENGINE_')
    and isinstance(getattr(_mmpretrain, name), Registry)
]
for _name in _NAMES:
    _parent = getattr(_mmpretrain, _name)
    # A re-import (importlib.reload, a test that imports modules afresh)
    # finds the child already attached to mmpretrain's registry: reuse it.
    # (An empty Registry is falsy: compare with None.)
    _child = _parent.children.get('fer_mm')
    if _child is None:
        _child = Registry(_parent.name, parent=_parent, scope='fer_mm')
    globals()[_name] = _child

__all__ = list(_NAMES)

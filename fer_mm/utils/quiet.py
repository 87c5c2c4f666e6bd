# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Known, harmless warnings of the pinned stack, silenced in fer_mm's own
command-line tools only.

Every command of the pinned stack used to print the same four lines before
its own output: mmcv-lite's "Fail to import ``MultiScaleDeformableAttention``"
(an mmdet/mmdet3d operator that no fer_mm or mmpretrain model uses; the full
mmcv build has it) and setuptools' "pkg_resources is deprecated" three times
(mmengine's ``is_installed`` imports and reloads ``pkg_resources``; the
project pins ``setuptools<81`` where it still exists).

:func:`filter_known_warnings` ignores exactly these, by message and by the
module that emits them. It only acts when the running program is one of
fer_mm's entry points (a script under this checkout's ``tools/`` or
``demo/``, or the installed copy of ``tools/`` in ``fer_mm/.mim``): a user's
own program, a notebook or the test runner keeps every warning.
"""

import os.path as osp
import sys
import warnings

# (message regex, category, module regex): each one narrow.
KNOWN_WARNINGS = (
    (
        r'Fail to import ``MultiScaleDeformableAttention`` from '
        r'``mmcv\.ops\.multi_scale_deform_attn``',
        UserWarning,
        r'mmcv\.cnn\.bricks\.transformer$',
    ),
    (
        r'pkg_resources is deprecated as an API',
        UserWarning,
        # the import in mmengine.utils.package_utils, and its
        # importlib.reload(pkg_resources), reported from importlib
        r'(mmengine\.utils\.package_utils|importlib)$',
    ),
)

_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ENTRY_POINT_DIRS = (
    osp.join(_ROOT, 'tools'),
    osp.join(_ROOT, 'demo'),
    osp.join(_ROOT, 'fer_mm', '.mim', 'tools'),
)


def is_entry_point(path=None) -> bool:
    """Whether ``path`` (default: the running ``__main__`` script) is one of
    fer_mm's tools or demos."""
    if path is None:
        path = getattr(sys.modules.get('__main__'), '__file__', None)
    if not path:
        return False
    path = osp.realpath(path)
    return any(
        path.startswith(osp.realpath(d) + osp.sep) for d in ENTRY_POINT_DIRS
    )


def filter_known_warnings(force: bool = False) -> bool:
    """Ignore :data:`KNOWN_WARNINGS` in this process if it runs one of
    fer_mm's entry points (or ``force``).

    Returns:
        bool: Whether the filters were installed.
    """
    if not (force or is_entry_point()):
        return False
    for message, category, module in KNOWN_WARNINGS:
        warnings.filterwarnings(
            'ignore', message=message, category=category, module=module
        )
    return True

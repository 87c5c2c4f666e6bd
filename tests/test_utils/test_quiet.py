# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The stack's known warnings are ignored in fer_mm's entry points only, and
only those."""

import os.path as osp
import warnings

from fer_mm.utils.quiet import filter_known_warnings, is_entry_point

MMCV_LITE = (
    'Fail to import ``MultiScaleDeformableAttention`` from '
    '``mmcv.ops.multi_scale_deform_attn``, You should install ``mmcv`` '
    'rather than ``mmcv-lite`` if you need this module. '
)
PKG_RESOURCES = (
    'pkg_resources is deprecated as an API. See '
    'https://setuptools.pypa.io/en/latest/pkg_resources.html.'
)


def emitted(message, module):
    """Messages shown for ``message`` warned from ``module``."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        assert filter_known_warnings(force=True)
        warnings.warn_explicit(
            message, UserWarning, f'{module}.py', 1, module=module
        )
    return [str(w.message) for w in seen]


def test_known_warnings_are_ignored_by_message_and_module():
    assert emitted(MMCV_LITE, 'mmcv.cnn.bricks.transformer') == []
    assert emitted(PKG_RESOURCES, 'mmengine.utils.package_utils') == []
    assert emitted(PKG_RESOURCES, 'importlib') == []


def test_other_warnings_stay():
    # the same text from another module, another text from the same module
    assert emitted(MMCV_LITE, 'my_project.ops') == [MMCV_LITE]
    other = 'Fail to import ``SomethingElse`` from ``mmcv.ops``'
    assert emitted(other, 'mmcv.cnn.bricks.transformer') == [other]
    assert emitted(PKG_RESOURCES, 'my_project') == [PKG_RESOURCES]


def test_only_entry_points_filter(repo_root):
    assert is_entry_point(osp.join(repo_root, 'tools', 'train.py'))
    assert is_entry_point(osp.join(repo_root, 'demo', 'image_demo.py'))
    assert is_entry_point(
        osp.join(repo_root, 'tools', 'analysis_tools', 'browse_dataset.py')
    )
    assert not is_entry_point(osp.join(repo_root, 'tests', 'conftest.py'))
    assert not is_entry_point(osp.join(repo_root, 'toolsx', 'train.py'))
    assert not is_entry_point()  # this process runs pytest
    before = list(warnings.filters)
    assert not filter_known_warnings()  # this process runs pytest
    assert warnings.filters == before

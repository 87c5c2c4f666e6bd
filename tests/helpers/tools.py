# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Import the scripts under ``tools/`` in tests."""

import importlib.util
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(relpath: str):
    """Import ``REPO/relpath`` as a module named after the file.

    The module is kept in ``sys.modules`` under that name, so a script that
    imports a sibling script (``arbex_to_fermm`` imports ``poster_to_fermm``)
    shares one copy of it with the tests (same classes, same exceptions).
    """
    path = osp.join(REPO, relpath)
    name = osp.splitext(osp.basename(path))[0]
    module = sys.modules.get(name)
    if module is not None and osp.abspath(module.__file__) == path:
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module

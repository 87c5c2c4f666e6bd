# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import os
import os.path as osp
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


@pytest.fixture(scope='session')
def synthetic_rafdb(tmp_path_factory):
    """A small synthetic set in the RAF-DB layout (245 train / 63 test)."""
    from fer_mm.testing.synthetic import generate_rafdb

    root = str(tmp_path_factory.mktemp('synthetic_rafdb'))
    generate_rafdb(root, scale=0.02, seed=0, num_workers=2, progress=False)
    return root


@pytest.fixture(scope='session')
def repo_root():
    return REPO


def pytest_configure(config):
    # Keep subprocesses (tools/*.py) on the environment's interpreter and
    # away from oversubscribing the cores.
    os.environ.setdefault('OMP_NUM_THREADS', '2')
    # A child killed by SIGSEGV / SIGABRT (native code) prints every
    # thread's Python stack to its stderr (tests/helpers/subproc.py shows
    # the tail of it when the child fails).
    os.environ.setdefault('PYTHONFAULTHANDLER', '1')
    config.addinivalue_line(
        'markers',
        'slow: long subprocess / multi-process / training tests '
        '(skipped by `make test-fast`, run by `make test` and CI)',
    )


@pytest.fixture(autouse=True)
def _default_scope(request):
    """Each test starts in its library's scope: mmagic's for the generative
    tests, mmpretrain's otherwise (a scope must not leak into the next
    test)."""
    from mmengine.registry import init_default_scope

    generative = 'test_generative' in str(request.node.fspath)
    init_default_scope('mmagic' if generative else 'mmpretrain')
    yield

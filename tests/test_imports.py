# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Every module of fer_mm imports on its own (no import cycle, no module
that only works after another one was imported)."""

import json
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

# One interpreter: upstream packages stay loaded, fer_mm is dropped from
# sys.modules before each module, so each one is imported from scratch.
SCRIPT = r"""
import gc, importlib, json, pkgutil, sys, traceback
from mmengine.registry import Registry
import fer_mm

names = sorted(
    m.name for m in pkgutil.walk_packages(fer_mm.__path__, 'fer_mm.')
)
# Warm-up: import everything once, so that upstream modules registered
# lazily are in place; then remember the registries without fer_mm's
# entries (upstream registries outlive the dropped fer_mm modules, and a
# re-import would otherwise hit "already registered").
for name in names:
    try:
        importlib.import_module(name)
    except Exception:
        pass
registries = [o for o in gc.get_objects() if isinstance(o, Registry)]
upstream = {
    id(r): {
        k: v
        for k, v in r._module_dict.items()
        if not getattr(v, '__module__', '').startswith('fer_mm')
    }
    for r in registries
}
failures = {}
for name in names:
    for key in [k for k in sys.modules if k == 'fer_mm' or k.startswith('fer_mm.')]:
        del sys.modules[key]
    for r in registries:
        r._module_dict.clear()
        r._module_dict.update(upstream[id(r)])
    try:
        importlib.import_module(name)
    except Exception:
        failures[name] = traceback.format_exc(limit=-3)
print(json.dumps(dict(names=names, failures=failures)))
"""


@pytest.mark.slow
def test_every_module_imports_alone():
    proc = subprocess.run(
        [sys.executable, '-c', SCRIPT],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # the walk found the package (a broken walk would pass vacuously)
    assert 'fer_mm.models.heads.dan_head' in result['names']
    assert 'fer_mm.models.backbones.poster_v2' in result['names']
    assert len(result['names']) > 50
    assert result['failures'] == {}, '\n'.join(
        f'{name}:\n{tb}' for name, tb in result['failures'].items()
    )

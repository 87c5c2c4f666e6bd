# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""What every shipped config means, once merged, is pinned.

Reorganising the config tree (inheriting upstream ``mmpretrain::`` /
``mmagic::`` bases, sharing schedule bases, renaming files) must not change
what a config trains. ``tests/data/effective_configs.json`` holds the merged
dict of every config under ``configs/`` (``Config.fromfile(path).to_dict()``,
through JSON). It was taken from the tree before the reorganisation and
checked against the configs of the commit before the packaging work began:
the only differences there were the intended registry / keyword renames
(``DANAffinityLoss``, ``loss_*`` keys, ``ir50_init_cfg``, ...) and the
weights-only loader in ``custom_imports``.

Tolerated here: ``_scope_`` keys (mmengine adds them to dicts inherited from
another package's base; they name the registry the type is built from,
which is the config's ``default_scope`` or a parent of it), and the keys in
``UPSTREAM_LEGACY_KEYS``, which mmagic's runtime base defines and nothing
reads. Anything else fails with the dotted path of every difference.

Regenerate only for an intended change, and review the JSON diff::

    python tests/test_configs_effective.py --update
"""

import glob
import json
import os.path as osp
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SNAPSHOT = osp.join(REPO, 'tests', 'data', 'effective_configs.json')

# Top-level keys of mmagic's ``_base_/gen_default_runtime.py`` that mmengine's
# Runner does not read (it reads env_cfg); the values mmagic sets.
UPSTREAM_LEGACY_KEYS = {
    'dist_params': {'backend': 'nccl'},
    'opencv_num_threads': 0,
    'mp_start_method': 'fork',
}


def _config_paths():
    paths = glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    return sorted(
        osp.relpath(p, REPO).replace(osp.sep, '/')
        for p in paths
        if '_base_' not in p
    )


def _strip_scope(value):
    if isinstance(value, dict):
        return {k: _strip_scope(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, list):
        return [_strip_scope(v) for v in value]
    return value


def effective(path):
    """The merged config at ``path`` as plain JSON values."""
    from mmengine.config import Config

    cfg = Config.fromfile(osp.join(REPO, path)).to_dict()
    return json.loads(json.dumps(cfg, default=repr, sort_keys=True))


def differences(expected, actual, where=''):
    """Dotted paths at which two JSON values differ."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            sub = f'{where}.{key}' if where else key
            if key not in actual:
                out.append(f'{sub}: missing (expected {expected[key]!r})')
            elif key not in expected:
                out.append(f'{sub}: unexpected {actual[key]!r}')
            else:
                out.extend(differences(expected[key], actual[key], sub))
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f'{where}: {expected!r} != {actual!r}']
        out = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            out.extend(differences(e, a, f'{where}[{i}]'))
        return out
    if expected != actual or type(expected) is not type(actual):
        return [f'{where}: expected {expected!r}, got {actual!r}']
    return []


def _load_snapshot():
    with open(SNAPSHOT) as f:
        return json.load(f)


def test_snapshot_covers_every_config():
    assert sorted(_load_snapshot()) == _config_paths()


@pytest.mark.parametrize('path', _config_paths(), ids=osp.basename)
def test_effective_config_unchanged(path):
    expected = _load_snapshot()[path]
    actual = _strip_scope(effective(path))
    for key, value in UPSTREAM_LEGACY_KEYS.items():
        if key in actual and key not in expected:
            assert actual.pop(key) == value, key
    diff = differences(expected, actual)
    assert not diff, f'{path} changed:\n' + '\n'.join(diff)


def test_differences_names_each_path():
    """The comparison itself: every kind of change is reported, by path."""
    old = {'a': {'b': [1, {'c': 2}]}, 'd': 1, 'e': 1.0}
    new = {'a': {'b': [1, {'c': 3}]}, 'f': 1, 'e': 1}
    assert differences(old, new) == [
        'a.b[1].c: expected 2, got 3',
        'd: missing (expected 1)',
        'e: expected 1.0, got 1',
        'f: unexpected 1',
    ]
    assert differences(old, old) == []
    assert _strip_scope({'_scope_': 'x', 'l': [{'_scope_': 'y', 't': 1}]}) == {
        'l': [{'t': 1}]
    }


if __name__ == '__main__':
    if sys.argv[1:] != ['--update']:
        sys.exit(f'usage: python {sys.argv[0]} --update')
    sys.path.insert(0, REPO)
    snapshot = {p: _strip_scope(effective(p)) for p in _config_paths()}
    with open(SNAPSHOT, 'w') as f:
        json.dump(snapshot, f, indent=1, sort_keys=True)
        f.write('\n')
    print(f'{len(snapshot)} configs written to {SNAPSHOT}')

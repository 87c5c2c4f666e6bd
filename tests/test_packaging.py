# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""setup.py reads the requirement files tools/setup_env.sh installs; the
wheel holds fer_mm (and its .mim configs/tools), never the tests."""

import os
import os.path as osp
import re
import runpy
import shutil
import subprocess
import sys
import zipfile

import pytest
from packaging.requirements import Requirement

from tests.helpers.subproc import run_checked

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
REQ = osp.join(REPO, 'requirements')


@pytest.fixture(scope='module')
def setup_py():
    # run_name other than '__main__': the functions, without calling setup().
    return runpy.run_path(osp.join(REPO, 'setup.py'), run_name='fer_mm_setup')


def lines_of(name):
    """Requirement lines of a file, read independently of setup.py."""
    out = []
    with open(osp.join(REQ, name), encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                out.append(line)
    return out


def test_install_requires_are_runtime_txt(setup_py):
    reqs = setup_py['parse_requirements']('runtime.txt')
    assert reqs == lines_of('runtime.txt')
    names = {Requirement(r).name for r in reqs}
    # What fer_mm imports everywhere; mmcv comes through the `mim` extra
    # (mmcv or mmcv-lite: two distribution names for one import).
    assert {'torch', 'numpy', 'mmengine', 'mmpretrain'} <= names
    assert 'mmcv' not in names


def test_extras_read_their_files(setup_py):
    parse, extras = setup_py['parse_requirements'], setup_py['EXTRAS']
    assert set(extras) == {
        'inference',
        'generative',
        'tests',
        'optional',
        'cam',
        'loggers',
        'docs',
        'landmarks',
        'mim',
        'all',
    }
    assert parse(*extras['mim']) == lines_of('mminstall.txt')
    assert parse(*extras['landmarks']) == lines_of('landmarks.txt')
    assert parse(*extras['generative']) == lines_of('generative.txt')
    assert parse(*extras['cam']) == lines_of('cam.txt')
    assert parse(*extras['loggers']) == ['tensorboard']
    assert parse(*extras['docs']) == lines_of('docs.txt')
    expected_all = []
    for name in (
        'optional.txt',
        'inference.txt',
        'generative.txt',
        'cam.txt',
        'loggers.txt',
    ):
        expected_all += lines_of(name)
    expected_all += lines_of('tests.txt')
    # `requests` is in inference.txt and generative.txt: listed once.
    assert parse(*extras['all']) == list(dict.fromkeys(expected_all))


def test_pip_options_are_refused(setup_py, tmp_path):
    (tmp_path / 'x.txt').write_text('torch\n-r other.txt\n')
    with pytest.raises(ValueError, match=r'x\.txt:2: pip options'):
        setup_py['parse_requirements']('x.txt', root=str(tmp_path))


def test_constraints_satisfy_the_ranges():
    """Every exact pin lies inside the loose range the files declare."""
    pins = {}
    for line in lines_of('constraints.txt'):
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == '==', line
        pins[req.name.lower().replace('_', '-')] = spec.version
    checked = 0
    for name in sorted(os.listdir(REQ)):
        if name == 'constraints.txt' or not name.endswith('.txt'):
            continue
        for line in lines_of(name):
            req = Requirement(line)
            pin = pins.get(req.name.lower().replace('_', '-'))
            if pin is not None:
                assert req.specifier.contains(
                    pin, prereleases=True
                ), f'{name}: {line} excludes the pinned {req.name}=={pin}'
                checked += 1
    assert checked >= 10
    # setup_env.sh installs these by name, versions from the constraints.
    assert {'mmcv', 'mmcv-lite', 'mmagic', 'facenet-pytorch'} <= set(pins)


def test_packages_exclude_tests():
    from setuptools import find_packages

    packages = find_packages(REPO, include=('fer_mm', 'fer_mm.*'))
    assert 'fer_mm' in packages and 'fer_mm.utils' in packages
    assert not [p for p in packages if not p.startswith('fer_mm')]
    # The old call shipped the test helpers as a top-level package.
    old = find_packages(REPO, exclude=('configs', 'tools', 'tests'))
    assert 'tests.helpers' in old


@pytest.mark.slow
def test_wheel_contents(tmp_path):
    """Build the wheel from a copy of the tree: fer_mm, .mim, no tests."""
    src = tmp_path / 'src'
    skip = shutil.ignore_patterns(
        '.venv',
        '.git',
        'data',
        'work_dirs',
        '__pycache__',
        '.ruff_cache',
        'build',
        '*.egg-info',
        '.mim',
    )
    shutil.copytree(REPO, src, ignore=skip, symlinks=True)
    run_checked(
        [
            sys.executable, '-m', 'pip', 'wheel', '--no-deps',
            '--no-build-isolation', '-q', '-w', str(tmp_path / 'dist'),
            str(src),
        ],
        timeout=600,
    )  # fmt: skip
    (wheel,) = os.listdir(tmp_path / 'dist')
    with zipfile.ZipFile(tmp_path / 'dist' / wheel) as zf:
        names = zf.namelist()
        metadata = zf.read(
            next(n for n in names if n.endswith('.dist-info/METADATA'))
        ).decode()
    tops = {n.split('/')[0] for n in names}
    assert tops == {'fer_mm', wheel.split('-py3')[0] + '.dist-info'}, tops
    for path in (
        'fer_mm/.mim/model-index.yml',
        'fer_mm/.mim/tools/train.py',
        'fer_mm/.mim/configs/_base_/default_runtime.py',
        'fer_mm/utils/checkpoint.py',
    ):
        assert path in names, path
    assert 'Requires-Dist: mmpretrain<1.3.0,>=1.2.0' in metadata
    assert 'License-File: LICENSE' in metadata


# An absolute path into somebody's home or a work / data folder of one
# machine (POSIX or Windows); the folder names are generic, no machine's.
ABSOLUTE_PERSONAL = re.compile(
    rb'(?<![\w.:/~-])/(?:home|Users|root|work)/[\w.-]+'
    rb'|\b[A-Za-z]:\\(?:Users|work)\\'
)
# A relative path that climbs out of a folder (dot-dot-slash, either slash).
CLIMB = re.compile(rb'(?<![\w.])((?:\.\.[/\\])+)[\w.-]+')


def outside_references(relpath, data):
    """The places in ``data`` (the bytes of the tracked file ``relpath``)
    that point outside the checkout: an absolute path into a home or work
    folder, or a relative path with more ``../`` than the file is deep
    (read from the file's folder or from the repository root, it leaves the
    checkout either way)."""
    hits = [
        m.group().decode(errors='replace')
        for m in ABSOLUTE_PERSONAL.finditer(data)
    ]
    depth = relpath.count('/')
    for m in CLIMB.finditer(data):
        if m.group(1).count(b'..') > depth:
            hits.append(m.group().decode(errors='replace'))
    return hits


def tracked_files():
    files = subprocess.run(
        ['git', 'ls-files', '-z'],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b'\0')
    return [os.fsdecode(name) for name in files if name]


def test_outside_references_are_found():
    """The check itself, on planted lines (spelt in pieces, so that this
    file holds none of them)."""
    sep = '/'
    planted = {
        sep.join(['', 'home', 'someone', 'fer_mm']): True,
        sep.join(['', 'work', 'checkout', 'README.md']): True,
        'C:' + chr(92) + 'Users' + chr(92) + 'me': True,
        sep.join(['..', '..', 'sibling', 'notes.md']): True,
        sep.join(['', 'usr', 'bin', 'env']): False,
        'https://example.org' + sep.join(['', 'home', 'page']): False,
        sep.join(['..', '_base_', 'default_runtime.py']): False,
    }
    for text, outside in planted.items():
        # one folder deep, like configs/<method>/x.py
        hits = outside_references('configs/x.py', text.encode())
        assert bool(hits) == outside, (text, hits)
    # At the top of the checkout one level up already leaves it.
    up = sep.join(['..', 'sibling', 'notes.md']).encode()
    assert outside_references('README.md', up)
    assert outside_references('configs/x.py', up) == []
    # Two levels up from a file two folders deep still leaves the checkout
    # only with a third.
    climb = sep.join(['..', '..', '_base_', 'x.py']).encode()
    assert outside_references('configs/a/b.py', climb) == []
    assert outside_references('configs/b.py', climb)


def test_no_file_points_outside_the_repository():
    """The project stands alone: no tracked file refers to a folder outside
    the checkout or to a path on the machine it was written on."""
    if not osp.exists(osp.join(REPO, '.git')):
        pytest.skip('not a git checkout')
    hits = []
    for name in tracked_files():
        path = osp.join(REPO, name)
        if not osp.isfile(path) or osp.getsize(path) > 5_000_000:
            continue
        with open(path, 'rb') as f:
            data = f.read()
        hits += [f'{name}: {h}' for h in outside_references(name, data)]
    assert hits == []

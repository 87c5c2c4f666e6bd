# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""fer_mm's distribution.

Requirements come from ``requirements/*.txt`` (the same files
``tools/setup_env.sh`` installs, with the exact pins of
``requirements/constraints.txt``):

- ``install_requires``: ``runtime.txt``;
- extras: ``inference``, ``generative``, ``tests``, ``optional``, ``cam``
  (Grad-CAM), ``loggers`` (TensorBoard), ``docs`` (Sphinx), ``mim``
  (``mminstall.txt``: mmcv with ops, mmengine, mmpretrain) and ``all``.

As OpenMMLab codebases do, the configs, tools and model index travel inside
the package as ``fer_mm/.mim/`` (symlinks for an editable install, copies for
a wheel or sdist), which is where ``mim train fer_mm CONFIG`` and
:func:`fer_mm.apis.list_models` look for them in an installed copy.
"""

import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools', 'model-index.yml')
EXTRAS = {
    'inference': ('inference.txt',),
    'generative': ('generative.txt',),
    'tests': ('tests.txt',),
    'optional': ('optional.txt',),
    'cam': ('cam.txt',),
    'loggers': ('loggers.txt',),
    'docs': ('docs.txt',),
    'landmarks': ('landmarks.txt',),
    'mim': ('mminstall.txt',),
}
EXTRAS['all'] = tuple(
    name
    for key in (
        'optional',
        'inference',
        'generative',
        'cam',
        'loggers',
        'tests',
    )
    for name in EXTRAS[key]
)


def get_version():
    scope = {}
    path = osp.join(HERE, 'fer_mm', 'version.py')
    with open(path, encoding='utf-8') as f:
        exec(compile(f.read(), path, 'exec'), scope)
    return scope['__version__']


def parse_requirements(*names, root=osp.join(HERE, 'requirements')):
    """Requirement lines of ``requirements/<name>`` files, in order.

    Comments and blank lines are dropped; a line may also carry a trailing
    ``# comment``. Options (``-r``, ``-c``, ``--index-url``...) are refused:
    these files are read by pip and by this function alike.
    """
    reqs = []
    for name in names:
        path = osp.join(root, name)
        with open(path, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                line = line.split(' #', 1)[0].strip()
                if not line or line.startswith('#'):
                    continue
                if line.startswith('-'):
                    raise ValueError(
                        f'{path}:{lineno}: pip options are not supported in '
                        f'a requirement file read by setup.py: {line!r}'
                    )
                if line not in reqs:
                    reqs.append(line)
    return reqs


def add_mim_extension():
    """Put configs/, tools/ and model-index.yml into ``fer_mm/.mim``.

    Symlinks for an editable install (edits in the repository are seen),
    copies when a wheel or an sdist is built. Other commands leave it alone.
    """
    commands = set(sys.argv[1:])
    if commands & {'develop', 'editable_wheel'}:
        mode = 'symlink'
    elif commands & {'sdist', 'bdist_wheel', 'build', 'build_py'}:
        mode = 'copy'
    else:
        return
    mim_dir = osp.join(HERE, 'fer_mm', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src = osp.join(HERE, name)
        dst = osp.join(mim_dir, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_dir), dst)
        elif osp.isdir(src):
            shutil.copytree(
                src,
                dst,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'),
            )
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        long_description = f.read()
    setup(
        name='fer_mm',
        version=get_version(),
        description='Facial expression recognition for the OpenMMLab '
        'ecosystem (mmpretrain / mmagic plugin)',
        long_description=long_description,
        long_description_content_type='text/markdown',
        license_expression='Apache-2.0',
        keywords='facial expression recognition, mmpretrain, openmmlab',
        packages=find_packages(include=('fer_mm', 'fer_mm.*')),
        include_package_data=True,
        package_data={'fer_mm': ['.mim/**/*', '.mim/*']},
        python_requires='>=3.9',
        install_requires=parse_requirements('runtime.txt'),
        extras_require={
            key: parse_requirements(*names) for key, names in EXTRAS.items()
        },
        classifiers=[
            'Programming Language :: Python :: 3',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
        zip_safe=False,
    )

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from setuptools import find_packages, setup


def get_version():
    scope = {}
    with open('fer_mm/version.py', encoding='utf-8') as f:
        exec(compile(f.read(), 'fer_mm/version.py', 'exec'), scope)
    return scope['__version__']


setup(
    name='fer_mm',
    version=get_version(),
    description='Facial expression recognition for the OpenMMLab ecosystem '
    '(mmpretrain / mmagic plugin)',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    python_requires='>=3.9',
    zip_safe=False,
)

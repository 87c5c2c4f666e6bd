# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Sphinx configuration of fer_mm's documentation (OpenMMLab's layout).

Build: ``make docs`` (``sphinx-build -W --keep-going -b html docs/en
docs/en/_build/html``). The API reference is generated from the docstrings
(autodoc + napoleon for the Google style); nothing is mocked, so the build
needs the full environment (``tools/setup_env.sh full``).
"""

import os.path as osp
import sys

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
sys.path.insert(0, ROOT)

version_file = osp.join(ROOT, 'fer_mm', 'version.py')
scope = {}
with open(version_file, encoding='utf-8') as f:
    exec(compile(f.read(), version_file, 'exec'), scope)

project = 'fer_mm'
copyright = 'fer_mm contributors'
author = 'fer_mm contributors'
version = release = scope['__version__']

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
    'myst_parser',
]
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
master_doc = 'index'
exclude_patterns = ['_build']
# Anchors for ## and ### headings, so that [text](page.md#a-heading) links
# resolve (and a wrong one fails the build).
myst_heading_anchors = 3
myst_enable_extensions = ['colon_fence']

autodoc_member_order = 'bysource'
autodoc_default_options = {'members': True, 'show-inheritance': True}
autodoc_typehints = 'description'
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = 'sphinx_rtd_theme'
html_theme_options = {'navigation_depth': 3, 'collapse_navigation': False}
html_title = f'fer_mm {release}'
html_static_path = ['_static']
html_css_files = ['css/tables.css']

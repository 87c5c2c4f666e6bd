# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The documentation builds with warnings as errors, every internal link of
the built pages resolves, and the pages a user looks for are there."""

import glob
import os.path as osp
import re
import subprocess
import sys
from urllib.parse import unquote, urldefrag

import pytest

pytestmark = pytest.mark.slow

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAGES = (
    'index',
    'get_started',
    'api',
    'user_guides/datasets_overview',
    'user_guides/train_test',
    'user_guides/inference',
    'user_guides/models_overview',
    'user_guides/analysis_tools',
    'advanced_guides/add_method',
    'advanced_guides/add_head',
    'advanced_guides/add_dataset',
    'notes/stack',
    'notes/changelog',
)


@pytest.fixture(scope='module')
def html(tmp_path_factory):
    pytest.importorskip('sphinx')
    pytest.importorskip('myst_parser')
    out = tmp_path_factory.mktemp('docs')
    proc = subprocess.run(
        [
            sys.executable,
            '-m',
            'sphinx',
            '-W',
            '--keep-going',
            '-q',
            '-b',
            'html',
            '-d',
            str(out / 'doctrees'),
            osp.join(REPO, 'docs', 'en'),
            str(out / 'html'),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    return str(out / 'html')


def read(html, page):
    with open(osp.join(html, page + '.html'), encoding='utf-8') as f:
        return f.read()


def test_pages_and_navigation(html):
    index = read(html, 'index')
    for page in PAGES:
        assert osp.isfile(osp.join(html, page + '.html')), page
        if page != 'index':
            # reachable from the navigation of the front page
            assert f'href="{page}.html"' in index, page
    # pages other sessions add to the glob folders are listed too
    for md in glob.glob(osp.join(REPO, 'docs', 'en', '*', '*.md')):
        rel = osp.relpath(md, osp.join(REPO, 'docs', 'en'))[:-3]
        assert f'href="{rel}.html"' in index, rel


def test_internal_links_resolve(html):
    broken, checked = [], 0
    for path in glob.glob(osp.join(html, '**', '*.html'), recursive=True):
        if '_modules' in path:
            continue
        with open(path, encoding='utf-8') as f:
            text = f.read()
        ids = set(re.findall(r'id="([^"]+)"', text))
        for href in re.findall(r'href="([^"]+)"', text):
            if re.match(r'[a-z]+:', href) or href.startswith('//'):
                continue
            target, anchor = urldefrag(unquote(href))
            target = target.split('?', 1)[0]
            dest = (
                osp.normpath(osp.join(osp.dirname(path), target))
                if target
                else path
            )
            checked += 1
            if not osp.exists(dest):
                broken.append(f'{osp.relpath(path, html)} -> {href}')
            elif anchor and not target and anchor not in ids:
                broken.append(f'{osp.relpath(path, html)} -> #{anchor}')
    assert checked > 100
    assert broken == []


def test_what_users_look_for(html):
    inference = read(html, 'user_guides/inference')
    assert 'mmpretrain’s inferencers classify the whole image' in inference
    api = read(html, 'api')
    for name in (
        'fer_mm.apis.FERInferencer',
        'fer_mm.apis.FERInferencer.to_dataframe',
        'fer_mm.visualization.FaceCAM',
        'fer_mm.evaluation.metrics.FERMetric',
        'fer_mm.models.necks.DANAttentionNeck',
        'fer_mm.datasets.RAFDB',
    ):
        assert f'id="{name}"' in api, name
    train = read(html, 'user_guides/train_test')
    assert 'TensorboardVisBackend' in train and '_delete_=True' in train

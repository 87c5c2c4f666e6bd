# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The method-study scripts stay runnable and documented: each parses as
bash, every config and tool it names exists, and each is the command of a
plan in a method README (issue 21: every study is one rerunnable command)."""

import glob
import os.path as osp
import re
import subprocess

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPTS = sorted(
    glob.glob(osp.join(REPO, 'tools', 'analysis_tools', 'studies', '*.sh'))
)
READMES = sorted(glob.glob(osp.join(REPO, 'configs', '*', 'README.md')))


def test_there_are_studies():
    assert len(SCRIPTS) >= 5


@pytest.mark.parametrize('script', SCRIPTS, ids=osp.basename)
def test_study_script(script):
    subprocess.run(['bash', '-n', script], check=True)
    text = open(script, encoding='utf-8').read()
    paths = set(re.findall(r'\b((?:configs|tools)/[\w./-]+\.(?:py|sh))', text))
    assert paths, f'{script} names no config or tool'
    missing = [p for p in sorted(paths) if not osp.isfile(osp.join(REPO, p))]
    assert not missing, f'{osp.basename(script)} names missing files {missing}'
    rel = osp.relpath(script, REPO)
    documented = [
        r for r in READMES if rel in open(r, encoding='utf-8').read()
    ]
    assert documented, f'{rel} is the command of no configs/*/README.md plan'

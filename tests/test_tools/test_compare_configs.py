# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""tools/analysis_tools/compare_configs.py's table from finished runs."""

import json
import math
import os
import subprocess
import sys

from tests.helpers.tiny_config import tool_env


def finished(work, name, seed, acc, f1):
    out = os.path.join(work, name, f'seed{seed}', 'test')
    os.makedirs(out)
    with open(os.path.join(out, 'fer_metrics.json'), 'w') as f:
        json.dump(
            dict(
                accuracy=acc, average_accuracy=acc, macro_f1=f1,
                evaluated_classes=['Fear', 'Neutral'], f1=[f1, f1],
            ),
            f,
        )  # fmt: skip


def test_paired_table_from_finished_runs(tmp_path, repo_root):
    work = str(tmp_path / 'cmp')
    # baseline macro F1 per seed 10, 20, 30; method 12, 21, 33: d = 2, 1, 3
    for seed, (b, m) in enumerate(((10, 12), (20, 21), (30, 33))):
        finished(work, 'base', seed, 50.0, b)
        finished(work, 'method', seed, 50.0, m)
    proc = subprocess.run(
        [sys.executable, 'tools/analysis_tools/compare_configs.py',
         'x/base.py', 'x/method.py', '--seeds', '0', '1', '2',
         '--work-dir', work],
        cwd=repo_root, env=tool_env(repo_root), capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = open(os.path.join(work, 'summary.md')).read()
    # mean 2, s_d 1, half width 4.3027 / sqrt(3) = 2.48
    half = 4.3027 / math.sqrt(3)
    assert f'+2.00 [{2 - half:+.2f}, {2 + half:+.2f}]' in summary
    assert (
        '| method | 50.00, 50.00, 50.00 | 50.00, 50.00, 50.00 | 12.00, 21.00, 33.00 |'
        in summary
    )
    assert (
        '| base | 50.00 +- 0.00 | 50.00 +- 0.00 | 20.00 +- 10.00 |' in summary
    )

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Train + test several configs over several seeds; print mean +- std.

    python tools/analysis_tools/compare_configs.py CONFIG [CONFIG ...] \
        [--seeds 0 1 2] [--work-dir work_dirs/compare] [--amp] \
        [--cfg-options k=v ...]

Each (config, seed) runs ``tools/train.py`` then ``tools/test.py`` on the
last checkpoint; FERMetric's ``fer_metrics.json`` of every run is collected
and a markdown table of accuracy, average accuracy, macro F1 and the F1 of
the rarest training class is printed (and written to ``summary.md``): mean
+- sample standard deviation over the seeds, every per-seed value, and for
each config after the first its paired difference to the first (the
baseline: same seeds) with a 95 % confidence interval
(:func:`fer_mm.evaluation.paired_statistics.paired_difference`).
Finished runs are reused when the script is started again.
"""

import argparse
import json
import os.path as osp
import subprocess
import sys
import time

import numpy as np

from fer_mm.apis.writers import atomic_open
from fer_mm.evaluation.paired_statistics import paired_difference

HERE = osp.dirname(osp.abspath(__file__))
TOOLS = osp.dirname(HERE)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/compare')
    parser.add_argument('--amp', action='store_true')
    parser.add_argument('--rare-class', default='Fear')
    parser.add_argument('--cfg-options', nargs='+', default=[])
    return parser.parse_args()


def run_one(config, seed, work, args):
    result = osp.join(work, 'test', 'fer_metrics.json')
    if osp.isfile(result):
        return result
    opts = [f'randomness.seed={seed}'] + args.cfg_options
    train = [
        sys.executable,
        osp.join(TOOLS, 'train.py'),
        config,
        '--work-dir',
        work,
        '--cfg-options',
        *opts,
    ]
    if args.amp:
        train.append('--amp')
    if not osp.isfile(osp.join(work, 'last_checkpoint')):
        subprocess.run(train, check=True, stdout=subprocess.DEVNULL)
    with open(osp.join(work, 'last_checkpoint')) as f:
        ckpt = f.read().strip()
    test = [
        sys.executable,
        osp.join(TOOLS, 'test.py'),
        config,
        ckpt,
        '--work-dir',
        work,
    ]
    if args.cfg_options:
        test += ['--cfg-options', *args.cfg_options]
    subprocess.run(test, check=True, stdout=subprocess.DEVNULL)
    return result


def main():
    args = parse_args()
    rows = []
    for config in args.configs:
        name = osp.splitext(osp.basename(config))[0]
        runs = []
        for seed in args.seeds:
            work = osp.join(args.work_dir, name, f'seed{seed}')
            t0 = time.perf_counter()
            with open(run_one(config, seed, work, args)) as f:
                m = json.load(f)
            rare = m['evaluated_classes'].index(args.rare_class)
            runs.append(
                [
                    m['accuracy'],
                    m['average_accuracy'],
                    m['macro_f1'],
                    m['f1'][rare],
                ]
            )
            print(
                f'{name} seed {seed}: acc {m["accuracy"]:.2f} avg '
                f'{m["average_accuracy"]:.2f} F1 {m["macro_f1"]:.2f} '
                f'({time.perf_counter() - t0:.0f} s)',
                flush=True,
            )
        runs = np.array(runs)
        rows.append((name, runs))
    header = (
        f'| config | accuracy | average accuracy | macro F1 | '
        f'{args.rare_class} F1 |\n|---|---|---|---|---|\n'
    )
    ddof = 1 if len(args.seeds) > 1 else 0
    body = ''.join(
        f'| {n} | '
        + ' | '.join(
            f'{a:.2f} +- {s:.2f}'
            for a, s in zip(runs.mean(0), runs.std(0, ddof=ddof))
        )
        + ' |\n'
        for n, runs in rows
    )
    per_seed = ''.join(
        f'| {n} | '
        + ' | '.join(', '.join(f'{v:.2f}' for v in col) for col in runs.T)
        + ' |\n'
        for n, runs in rows
    )
    paired = ''
    if len(rows) > 1 and len(args.seeds) > 1:
        base_name, base = rows[0]
        paired = (
            f'\nPaired difference to {base_name} (same seeds), mean '
            '[95 % CI]:\n\n' + header
        )
        for n, runs in rows[1:]:
            cells = []
            for j in range(runs.shape[1]):
                r = paired_difference(runs[:, j], base[:, j])
                cells.append(
                    f'{r["mean"]:+.2f} [{r["ci_low"]:+.2f}, {r["ci_high"]:+.2f}]'
                )
            paired += f'| {n} | ' + ' | '.join(cells) + ' |\n'
    table = (
        header
        + body
        + (
            f'\n{len(args.seeds)} seeds '
            f'({", ".join(map(str, args.seeds))}); mean +- '
            f'std (ddof {ddof}).\n\nPer seed:\n\n'
        )
        + header
        + per_seed
        + paired
    )
    print(table)
    # whole or not at all: two calls on one work dir (parallel seed streams,
    # dan_pretrained_replication.sh) may finish at the same moment
    with atomic_open(osp.join(args.work_dir, 'summary.md')) as f:
        f.write(table)


if __name__ == '__main__':
    main()

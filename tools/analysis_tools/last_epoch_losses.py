# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Mean of every logged loss term in the last training epoch of runs.

    python tools/analysis_tools/last_epoch_losses.py RUN_DIR [RUN_DIR ...] \
        [--check loss --below 1.20]

A run directory is a ``tools/train.py`` work dir: mmengine's logger writes
``<timestamp>/vis_data/scalars.json`` there (one JSON record per logging
interval; a resumed run adds a timestamp folder, and all are read). For each
run this prints the last epoch, how many records it logged in it, and the
mean of every key that starts with ``loss``. With ``--check KEY --below V``
each run is also marked ``passed`` (mean < V) or ``FAILED``, and the exit
status is 1 when any run failed: the regime checks of the method studies.
"""

import argparse
import glob
import json
import os.path as osp
import sys


def last_epoch_losses(run_dir):
    """Return ``(epoch, n_records, {key: mean})`` of the run's last epoch."""
    files = sorted(
        glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json'))
    )
    if not files:
        raise FileNotFoundError(
            f'{run_dir}: no <timestamp>/vis_data/scalars.json (is this a '
            'tools/train.py work dir?)'
        )
    rows = []
    for path in files:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ValueError(
                        f'{path}, line {number}: not JSON ({e})'
                    ) from e
                if 'epoch' in record and any(
                    k.startswith('loss') for k in record
                ):
                    rows.append(record)
    if not rows:
        raise ValueError(
            f'{run_dir}: no training record with a loss was logged'
        )
    last = max(r['epoch'] for r in rows)
    rows = [r for r in rows if r['epoch'] == last]
    keys = sorted({k for r in rows for k in r if k.startswith('loss')})
    means = {}
    for key in keys:
        values = [r[key] for r in rows if key in r]
        means[key] = sum(values) / len(values)
    return last, len(rows), means


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+', help='tools/train.py work dirs')
    parser.add_argument('--check', help='loss key of the regime check')
    parser.add_argument(
        '--below', type=float, help='the check passes below it'
    )
    args = parser.parse_args(argv)
    if (args.check is None) != (args.below is None):
        parser.error('--check and --below go together')
    failed = False
    for run in args.runs:
        epoch, n, means = last_epoch_losses(run)
        terms = ', '.join(f'{k} {v:.3f}' for k, v in means.items())
        line = f'{run}: epoch {epoch}, {n} records; {terms}'
        if args.check is not None:
            if args.check not in means:
                parser.error(
                    f'{run}: no {args.check!r} logged (have {list(means)})'
                )
            ok = means[args.check] < args.below
            failed |= not ok
            line += f' -> {args.check} < {args.below}: ' + (
                'passed' if ok else 'FAILED'
            )
        print(line)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

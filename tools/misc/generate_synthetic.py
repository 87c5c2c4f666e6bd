# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Generate the built-in synthetic FER set.

    python tools/misc/generate_synthetic.py data/synthetic_rafdb --scale 0.25

Writes the RAF-DB basic layout (list file + aligned 100x100 JPEGs) with
RAF-DB's long-tailed class proportions; deterministic for a given seed.
A second run with the same settings finds the tree complete and returns.
"""

import argparse
import time

from fer_mm.datasets.synthetic import generate_rafdb


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='root of the tree to write')
    parser.add_argument(
        '--layout',
        default='rafdb',
        choices=['rafdb'],
        help='on-disk layout to write',
    )
    parser.add_argument(
        '--scale',
        type=float,
        default=1.0,
        help='size relative to RAF-DB (12,271 train / 3,068 test)',
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--label-noise',
        type=float,
        default=0.0,
        help='probability that a written label is replaced by another class',
    )
    parser.add_argument('--workers', type=int, default=None)
    return parser.parse_args()


def main():
    args = parse_args()
    t0 = time.perf_counter()
    meta = generate_rafdb(
        args.out_dir,
        scale=args.scale,
        seed=args.seed,
        label_noise=args.label_noise,
        num_workers=args.workers,
    )
    counts = meta['counts']
    print(
        f'{args.out_dir}: train {sum(counts["train"].values())}, '
        f'test {sum(counts["test"].values())} images '
        f'({time.perf_counter() - t0:.1f} s)'
    )
    for split in ('train', 'test'):
        print(
            f'  {split:5s} '
            + ', '.join(f'{k} {v}' for k, v in counts[split].items())
        )


if __name__ == '__main__':
    main()

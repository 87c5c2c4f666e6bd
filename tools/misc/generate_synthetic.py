# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Generate the built-in synthetic FER set in a real dataset's layout.

    python tools/misc/generate_synthetic.py data/synthetic_rafdb --scale 0.25
    python tools/misc/generate_synthetic.py data/synthetic_affwild2 --layout affwild2
    python tools/misc/generate_synthetic.py data/synthetic_lsd --layout lsd
    python tools/misc/generate_synthetic.py data/synthetic_fer2013 --layout fer2013

Layouts: ``rafdb`` (list file, aligned 100x100 JPEGs, 68-point landmarks,
RAF-DB's long-tailed proportions), ``affwild2`` (videos with a fixed identity
and changing expressions, per-video annotation files with the header, -1 and
missing frames, two frame roots, a _left/_right pair), ``lsd`` (ABAW4-LSD
class folders, ANGER misspelled as released) and ``fer2013`` (the CSV).
Deterministic for a given seed; ``--scale`` is relative to the real set
(for affwild2, ``--videos`` sets the size).
"""

import argparse
import time

from fer_mm.testing.synthetic import (
    generate_affwild2,
    generate_fer2013,
    generate_lsd,
    generate_rafdb,
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='root of the tree to write')
    parser.add_argument(
        '--layout',
        default='rafdb',
        choices=['rafdb', 'affwild2', 'lsd', 'fer2013'],
        help='on-disk layout to write',
    )
    parser.add_argument(
        '--scale',
        type=float,
        default=None,
        help='size relative to the real set (default: rafdb 1.0, lsd '
        '0.005, fer2013 0.05)',
    )
    parser.add_argument(
        '--videos', type=int, default=12, help='affwild2: number of videos'
    )
    parser.add_argument(
        '--val-fraction',
        type=float,
        default=0.15,
        help='lsd: validation size relative to the training set',
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--label-noise',
        type=float,
        default=0.0,
        help='rafdb: probability that a written training label is replaced '
        '(test labels stay true; EmoLabel/true_labels.txt keeps them)',
    )
    regime = parser.add_argument_group(
        'regime knobs (method studies; rafdb, --test-domain-shift also '
        'lsd; defaults: the built-in set)'
    )
    regime.add_argument(
        '--noise-type',
        choices=('symmetric', 'pairwise'),
        default='symmetric',
        help='symmetric: any other class; pairwise: the confusable partner',
    )
    regime.add_argument(
        '--train-scale', type=float, help='size of the training split alone'
    )
    regime.add_argument(
        '--long-tail',
        type=float,
        default=1.0,
        help="exponent of RAF-DB's class proportions (0 balanced, 1 RAF-DB)",
    )
    regime.add_argument('--occlusion', type=float, default=0.12)
    regime.add_argument('--occlusion-size', type=float, default=1.0)
    regime.add_argument('--pose-strength', type=float, default=1.0)
    regime.add_argument('--test-occlusion', type=float)
    regime.add_argument('--test-occlusion-size', type=float)
    regime.add_argument('--test-pose-strength', type=float)
    regime.add_argument(
        '--test-domain-shift',
        type=float,
        default=0.0,
        help='rafdb: the test split, lsd: the validation ("real") split '
        'rendered in a shifted domain of this strength (tone, contrast, '
        "colour cast, blur, sensor noise; 1 is the studies' shift). "
        'Defaults to 0 (one domain)',
    )
    parser.add_argument('--workers', type=int, default=None)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.test_domain_shift and args.layout not in ('rafdb', 'lsd'):
        raise SystemExit(
            f'--test-domain-shift: the rafdb and lsd layouts only, not '
            f'{args.layout}'
        )
    t0 = time.perf_counter()
    common = dict(seed=args.seed, num_workers=args.workers)
    if args.layout == 'affwild2':
        meta = generate_affwild2(
            args.out_dir, num_videos=args.videos, **common
        )
        usable = sum(v['usable'] for v in meta['videos'].values())
        print(
            f'{args.out_dir}: {len(meta["videos"])} videos, {usable} '
            f'usable frames ({time.perf_counter() - t0:.1f} s)'
        )
        return
    if args.layout in ('lsd', 'fer2013'):
        fn = generate_lsd if args.layout == 'lsd' else generate_fer2013
        kwargs = {} if args.scale is None else dict(scale=args.scale)
        if args.layout == 'lsd':
            kwargs['val_fraction'] = args.val_fraction
            kwargs['val_domain_shift'] = args.test_domain_shift
        meta = fn(args.out_dir, **kwargs, **common)
        print(
            f'{args.out_dir}: {meta["counts"]} '
            f'({time.perf_counter() - t0:.1f} s)'
        )
        return
    meta = generate_rafdb(
        args.out_dir,
        scale=1.0 if args.scale is None else args.scale,
        label_noise=args.label_noise,
        noise_type=args.noise_type,
        train_scale=args.train_scale,
        long_tail=args.long_tail,
        occlusion=args.occlusion,
        occlusion_size=args.occlusion_size,
        pose_strength=args.pose_strength,
        test_occlusion=args.test_occlusion,
        test_occlusion_size=args.test_occlusion_size,
        test_pose_strength=args.test_pose_strength,
        test_domain_shift=args.test_domain_shift,
        **common,
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

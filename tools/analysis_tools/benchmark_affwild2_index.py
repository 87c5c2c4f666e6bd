# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Build an Aff-Wild2 tree at the real scale and time the dataset index.

    python tools/analysis_tools/benchmark_affwild2_index.py [--videos 546]
        [--frames 4800] [--workdir /tmp/affwild2_scale] [--keep]

Writes annotation files and *empty* frame files (the index only lists
folders, it never reads a frame) for ``videos x frames`` frames (default
546 x 4800 = 2.6 M, as in ABAW), then builds :class:`fer_mm.datasets.AffWild2`
in a fresh process and prints the build time, the peak memory of that
process and the bytes the index holds per frame, with and without the
on-disk frame check.
"""

import argparse
import os
import os.path as osp
import resource
import shutil
import subprocess
import sys
import time

import numpy as np
from tqdm import tqdm

HEADER = 'Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other'
CH = 'EXPR_Classification_Challenge'


def build_tree(root, videos, frames, seed=0):
    rng = np.random.default_rng(seed)
    ann = osp.join(root, 'annotations', CH, 'Train_Set')
    os.makedirs(ann, exist_ok=True)
    for v in tqdm(range(videos), desc='tree', unit='video'):
        name = f'{v + 1}-30-1280x720'
        labels = rng.integers(-1, 8, frames)
        with open(osp.join(ann, f'{name}.txt'), 'w') as f:
            f.write(HEADER + '\n' + '\n'.join(map(str, labels)) + '\n')
        folder = osp.join(root, 'cropped_aligned', name)
        os.makedirs(folder, exist_ok=True)
        present = np.flatnonzero(rng.random(frames) > 0.02) + 1
        for i in present:
            os.close(
                os.open(
                    osp.join(folder, f'{i:05d}.jpg'),
                    os.O_CREAT | os.O_WRONLY,
                    0o644,
                )
            )


CHILD = r"""
import resource, sys, time
t0 = time.perf_counter()
from fer_mm.datasets import AffWild2
t1 = time.perf_counter()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
ds = AffWild2(sys.argv[1], check_frames=sys.argv[2] == '1')
t2 = time.perf_counter()
nbytes = ds._video.nbytes + ds._frame.nbytes + ds._label.nbytes
info = ds.get_data_info(len(ds) - 1)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f'{len(ds)} {t2 - t1:.2f} {peak:.0f} {nbytes} {t1 - t0:.2f} {base:.0f}')
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--videos', type=int, default=546)
    parser.add_argument('--frames', type=int, default=4800)
    parser.add_argument('--workdir', default='/tmp/affwild2_scale')
    parser.add_argument(
        '--keep',
        action='store_true',
        help='keep the tree (reused by the next run)',
    )
    args = parser.parse_args()
    stamp = osp.join(args.workdir, f'.built_{args.videos}x{args.frames}')
    if not osp.exists(stamp):
        shutil.rmtree(args.workdir, ignore_errors=True)
        t0 = time.perf_counter()
        build_tree(args.workdir, args.videos, args.frames)
        open(stamp, 'w').close()
        print(
            f'tree: {args.videos} videos x {args.frames} frames written in '
            f'{time.perf_counter() - t0:.0f} s'
        )
    for check in ('1', '0'):
        out = subprocess.run(
            [sys.executable, '-c', CHILD, args.workdir, check],
            capture_output=True,
            text=True,
            check=True,
        )
        n, build, peak, nbytes, imp, base = out.stdout.splitlines()[-1].split()
        print(
            f'index (check_frames={check == "1"}): {int(n):,} frames in '
            f'{float(build):.1f} s, peak RSS {float(peak):.0f} MB '
            f'({float(base):.0f} MB after importing torch/mmpretrain in '
            f'{float(imp):.1f} s), index arrays '
            f'{int(nbytes) / 2**20:.1f} MB = '
            f'{int(nbytes) / int(n):.0f} bytes/frame'
        )
    print(
        f'this process: peak RSS '
        f'{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB'
    )
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == '__main__':
    main()

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Train a bag of K models, each on its own random subsample of the data.

    python tools/train_bag.py CONFIG [CONFIG ...] --work-dir DIR
        [--members 5] [--fraction 0.2] [--seed 0] [--nproc 1]
        [--cfg-options k=v ...]

Member k uses config ``CONFIGS[k % len(CONFIGS)]`` (members may differ in
architecture), trains on ``BaggingSampler(fraction, subset_seed=seed + k)``
with ``randomness.seed = seed + k``, in one ``tools/train.py`` run (or
``tools/dist_train.sh CONFIG NPROC`` with ``--nproc`` > 1). The member's
final config is written to ``DIR/member_k/config.py``; ``DIR/bag.json``
lists every member's config, checkpoint, subset seed and wall time, and is
what ``tools/analysis_tools/ensemble_test.py --bag DIR/bag.json`` reads.

Started again with the same arguments, the bag reuses every member that
finished: its ``member.json`` record exists, the checkpoint it names is
still there and its ``config.py`` is the one this start would write (any
change of config, fraction, seed or option retrains that member);
``--retrain`` trains every member again. A killed bag so loses only the
member that was training.
"""

import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

from mmengine.config import Config, DictAction

from fer_mm.apis.writers import atomic_open

HERE = osp.dirname(osp.abspath(__file__))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+', help='member config(s)')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--members', type=int, default=5)
    parser.add_argument(
        '--fraction',
        type=float,
        default=0.2,
        help='subsample size per member (default: 0.2, as in the paper)',
    )
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='member k uses subset and training seed SEED + k',
    )
    parser.add_argument(
        '--nproc',
        type=int,
        default=1,
        help='processes per member (> 1: tools/dist_train.sh)',
    )
    parser.add_argument(
        '--retrain',
        action='store_true',
        help='train every member again, even those that finished',
    )
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def member_config(path, fraction, seed, cfg_options=None):
    """The config of one member: its data subsample and seed."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    old = cfg.train_dataloader.get('sampler') or {}
    cfg.train_dataloader.sampler = dict(
        type='BaggingSampler',
        fraction=fraction,
        subset_seed=seed,
        shuffle=old.get('shuffle', True),
    )
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=seed)
    return cfg


def train_member(args, k, seed, wd, cfg_path, config_text):
    """Train member ``k`` in ``wd``; return (and write) its record."""
    with atomic_open(cfg_path) as f:
        f.write(config_text)
    record_path = osp.join(wd, 'member.json')
    if osp.exists(record_path):
        os.remove(record_path)
    if args.nproc > 1:
        cmd = [
            osp.join(HERE, 'dist_train.sh'),
            cfg_path,
            str(args.nproc),
            '--work-dir',
            wd,
        ]
    else:
        cmd = [
            sys.executable,
            osp.join(HERE, 'train.py'),
            cfg_path,
            '--work-dir',
            wd,
        ]
    print(f'[bag] member {k}: {" ".join(cmd)}', flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t0
    with open(osp.join(wd, 'last_checkpoint'), encoding='utf-8') as f:
        ckpt = f.read().strip()
    record = dict(
        config=cfg_path,
        checkpoint=ckpt,
        source_config=args.configs[k % len(args.configs)],
        subset_seed=seed,
        fraction=args.fraction,
        wall_s=round(wall, 1),
    )
    with atomic_open(record_path) as f:
        json.dump(record, f, indent=2)
    print(f'[bag] member {k} done in {wall:.1f} s: {ckpt}', flush=True)
    return record


def finished_member(work_dir, config_text):
    """The record of a member that finished with this config, else None."""
    record_path = osp.join(work_dir, 'member.json')
    cfg_path = osp.join(work_dir, 'config.py')
    if not (osp.isfile(record_path) and osp.isfile(cfg_path)):
        return None
    with open(cfg_path, encoding='utf-8') as f:
        if f.read() != config_text:
            return None
    with open(record_path, encoding='utf-8') as f:
        record = json.load(f)
    if not osp.isfile(record.get('checkpoint', '')):
        return None
    return record


def main(argv=None):
    args = parse_args(argv)
    if args.members < 1:
        sys.exit('--members must be >= 1')
    os.makedirs(args.work_dir, exist_ok=True)
    members = []
    for k in range(args.members):
        seed = args.seed + k
        wd = osp.join(args.work_dir, f'member_{k}')
        os.makedirs(wd, exist_ok=True)
        cfg = member_config(
            args.configs[k % len(args.configs)],
            args.fraction,
            seed,
            args.cfg_options,
        )
        cfg_path = osp.join(wd, 'config.py')
        config_text = cfg.pretty_text
        record = None if args.retrain else finished_member(wd, config_text)
        if record is not None:
            members.append(record)
            print(
                f'[bag] member {k}: finished before, reused '
                f'{record["checkpoint"]}',
                flush=True,
            )
        else:
            members.append(
                train_member(args, k, seed, wd, cfg_path, config_text)
            )
        with atomic_open(osp.join(args.work_dir, 'bag.json')) as f:
            json.dump(dict(members=members), f, indent=2)
    total = sum(m['wall_s'] for m in members)
    print(f'[bag] {len(members)} members, {total:.1f} s in all', flush=True)


if __name__ == '__main__':
    main()

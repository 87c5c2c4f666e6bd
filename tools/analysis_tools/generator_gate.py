# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Quality gate of a generator: does an oracle read its images as their
target class?

    python tools/analysis_tools/generator_gate.py ORACLE_CONFIG ORACLE_CKPT \
        GENERATED_ROOT [--split train] [--threshold 0.7] \
        [--classes Fear Disgust] [--reference REAL.json] [--out gate.json] \
        [--cfg-options k=v ...]

GENERATED_ROOT is a tree the oracle's dataset class reads (the RAF-DB tree
that ``tools/generative/vaegan_generate.py`` and
``tools/generative/ecyclegan_translate.py`` write; the label of every image
is its *target* class). The oracle (a classifier trained on real images:
config + checkpoint, loaded weights-only) reads each image through its own
test pipeline; for every target class the tool prints the share of images
read as that class (the keep share), its 95 % Wilson interval and what the
others were read as, and the verdict: the gate passes when every checked
class keeps at least ``--threshold`` of its images. The same figures go to
``--out`` as JSON (default ``GENERATED_ROOT/generator_gate.json``).

A relative gate: run the tool once on the real data tree (``--split test``,
the oracle's recall per class on held-out real images), then pass that
report as ``--reference``; every class then needs ``threshold`` times its
real-image share, so the gate asks "recognised nearly as often as real
faces" rather than an absolute share that an oracle weak on a rare class
could not give even to real images.
"""

import argparse
import json
import os.path as osp
import warnings

import torch
from mmengine.config import DictAction
from mmengine.runner import Runner

from fer_mm.apis import build_classifier
from fer_mm.apis.model import SyntheticDataWarning
from fer_mm.evaluation.generator_gate import class_keep_shares, gate_verdict


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('oracle_config', help="the oracle's config file")
    parser.add_argument('oracle_checkpoint', help="the oracle's checkpoint")
    parser.add_argument('generated_root', help='the tree of generated images')
    parser.add_argument(
        '--split',
        default='train',
        help='split of the generated tree to read (the generators write '
        '"train"). Defaults to train.',
    )
    parser.add_argument(
        '--threshold',
        type=float,
        default=0.7,
        help='minimum keep share of every checked class. Defaults to 0.7.',
    )
    parser.add_argument(
        '--classes',
        nargs='+',
        help='classes the gate checks (default: every class present)',
    )
    parser.add_argument(
        '--reference',
        help="a report of this tool on real images (the oracle's keep share "
        'per class): the gate becomes relative, threshold x that share',
    )
    parser.add_argument('--out', help='JSON report')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help="overrides of the oracle's config",
    )
    return parser.parse_args(argv)


def oracle_predictions(args):
    """Targets and the oracle's predictions over the generated tree."""
    from mmengine.config import Config

    cfg = Config.fromfile(args.oracle_config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    with warnings.catch_warnings():
        # an oracle of the synthetic testbed is trained on synthetic faces
        # on purpose: the photo warning does not apply
        warnings.simplefilter('ignore', SyntheticDataWarning)
        model, cfg, _ = build_classifier(
            cfg, args.oracle_checkpoint, device=args.device
        )
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.update(
        batch_size=args.batch_size, num_workers=0, persistent_workers=False
    )
    loader_cfg['dataset'] = dict(
        loader_cfg['dataset'],
        data_root=args.generated_root,
        split=args.split,
    )
    from mmengine.registry import DefaultScope

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        loader = Runner.build_dataloader(loader_cfg)
    classes = list(loader.dataset.metainfo['classes'])
    targets, preds = [], []
    with torch.no_grad():
        for batch in loader:
            for sample in model.test_step(batch):
                targets.append(int(sample.gt_label.item()))
                preds.append(int(sample.pred_label.item()))
    return targets, preds, classes


def load_reference(path):
    """Keep share per class from a report of this tool (on real images)."""
    try:
        with open(path, encoding='utf-8') as f:
            report = json.load(f)
    except (OSError, ValueError) as err:
        raise SystemExit(
            f'--reference {path}: cannot read it ({err})'
        ) from None
    shares = report.get('shares') if isinstance(report, dict) else None
    if not isinstance(shares, dict):
        raise SystemExit(
            f"--reference {path}: no 'shares' in it (expected a report of "
            'tools/analysis_tools/generator_gate.py)'
        )
    try:
        return {name: float(s['share']) for name, s in shares.items()}
    except (KeyError, TypeError, ValueError):
        raise SystemExit(
            f"--reference {path}: every entry of 'shares' needs a numeric "
            "'share'"
        ) from None


def main(argv=None):
    args = parse_args(argv)
    if args.classes is not None and not args.classes:
        raise SystemExit('--classes needs at least one class name')
    # a bad reference fails before the oracle reads anything
    reference = load_reference(args.reference) if args.reference else None
    targets, preds, classes = oracle_predictions(args)
    if not targets:
        raise SystemExit(
            f'{args.generated_root}: the {args.split!r} split holds no image'
        )
    unknown = [c for c in args.classes or [] if c not in classes]
    if unknown:
        raise SystemExit(
            f'--classes: {unknown} are not classes of the oracle ({classes})'
        )
    shares = class_keep_shares(targets, preds, classes)
    try:
        verdict = gate_verdict(
            shares, args.threshold, args.classes, reference=reference
        )
    except ValueError as err:
        raise SystemExit(f'--reference {args.reference}: {err}') from None
    print(
        f'oracle {args.oracle_checkpoint} on {len(targets)} generated '
        f'images ({args.generated_root}, split {args.split})'
    )
    print(
        '| target class | images | kept | keep share | 95 % CI | required '
        '| read as |'
    )
    print('|:---|---:|---:|---:|:---:|---:|:---|')
    for name, s in shares.items():
        read = ', '.join(f'{k} {v}' for k, v in s['read_as'].items())
        need = verdict['required'].get(name)
        need = '-' if need is None else f'{100 * need:.1f} %'
        print(
            f'| {name} | {s["total"]} | {s["kept"]} | {100 * s["share"]:.1f} % '
            f'| [{100 * s["ci95"][0]:.1f}, {100 * s["ci95"][1]:.1f}] | {need} '
            f'| {read} |'
        )
    word = 'PASSED' if verdict['passed'] else 'FAILED'
    failed = verdict['failed_classes']
    kind = (
        f'{args.threshold:g} x the real-image share of {args.reference}'
        if reference is not None
        else f'threshold {100 * args.threshold:.0f} %'
    )
    print(
        f'gate {word} ({kind}, for {", ".join(verdict["checked_classes"])})'
        + (f'; below it: {", ".join(failed)}' if failed else '')
    )
    report = dict(
        oracle_config=args.oracle_config,
        oracle_checkpoint=args.oracle_checkpoint,
        generated_root=args.generated_root,
        split=args.split,
        reference=args.reference,
        classes=classes,
        shares=shares,
        **verdict,
    )
    out = args.out or osp.join(args.generated_root, 'generator_gate.json')
    from fer_mm.utils.atomic_io import atomic_write_text

    atomic_write_text(out, json.dumps(report, indent=2) + '\n')
    return report


if __name__ == '__main__':
    main()

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Soft-voting ensemble of trained models: each member and the ensemble.

    python tools/analysis_tools/ensemble_test.py \
        [--models CFG1 CKPT1 CFG2 CKPT2 ...] [--bag work_dirs/bag/bag.json] \
        [--weights W1 W2 ...] [--work-dir DIR] [--abaw-out DIR] \
        [--cfg-options k=v ...]

Every member runs its own config's test dataloader and model (members may
differ in architecture, input size and pipeline); the samples must be the
same images (matched by ``img_path``) with the same class vocabulary. The
ensemble's class probabilities are the (weighted) mean of the members'
(soft voting). Each member and the ensemble are scored with ``FERMetric``;
``DIR/ensemble_metrics.json`` holds the figures and the confusion matrix of
the ensemble goes to ``DIR/ensemble/``. With ``--abaw-out`` (a video test
set such as Aff-Wild2), the ensemble's predictions are written as ABAW
expression-track submission files, one per video.
"""

import argparse
import json
import os
import os.path as osp
from collections import defaultdict

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint

import fer_mm  # noqa: F401  (registers fer_mm's modules)
from fer_mm.evaluation import (
    FERMetric,
    soft_vote,
    write_abaw_expr_predictions,
)
from fer_mm.utils import enable_weights_only_loading


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--models',
        nargs='+',
        default=[],
        metavar='CFG CKPT',
        help='config / checkpoint pairs',
    )
    parser.add_argument(
        '--bag',
        nargs='+',
        default=[],
        help='bag.json files written by tools/train_bag.py',
    )
    parser.add_argument('--weights', nargs='+', type=float, default=None)
    parser.add_argument('--work-dir', default='work_dirs/ensemble')
    parser.add_argument(
        '--abaw-out',
        default=None,
        help='write ABAW submission files of the ensemble here',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='applied to every member (e.g. the test data root)',
    )
    return parser.parse_args(argv)


def member_list(args):
    """``[(config, checkpoint), ...]`` from ``--models`` and ``--bag``."""
    if len(args.models) % 2:
        raise SystemExit('--models takes config / checkpoint pairs')
    pairs = list(zip(args.models[::2], args.models[1::2]))
    for path in args.bag:
        with open(path, encoding='utf-8') as f:
            pairs += [
                (m['config'], m['checkpoint']) for m in json.load(f)['members']
            ]
    if not pairs:
        raise SystemExit('no members: give --models and/or --bag')
    for cfg, ckpt in pairs:
        for p in (cfg, ckpt):
            if not osp.isfile(p):
                raise SystemExit(f'file not found: {p}')
    return pairs


@torch.no_grad()
def run_member(cfg_path, ckpt, cfg_options=None):
    """Class probabilities of one member on its test set.

    Returns:
        dict: ``probs`` (N, C), ``labels`` (N,), ``paths`` (N,), ``classes``.
    """
    cfg = Config.fromfile(cfg_path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    from mmpretrain.registry import MODELS

    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    load_checkpoint(model, ckpt, map_location='cpu', logger='silent')
    model.eval()
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg['num_workers'] = 0
    loader_cfg['persistent_workers'] = False
    loader = Runner.build_dataloader(loader_cfg)
    probs, labels, paths = [], [], []
    for batch in loader:
        for sample in model.test_step(batch):
            probs.append(sample.pred_score.float().cpu())
            labels.append(int(sample.gt_label.item()))
            paths.append(sample.metainfo.get('img_path'))
    return dict(
        probs=torch.stack(probs),
        labels=torch.tensor(labels),
        paths=paths,
        classes=tuple(loader.dataset.metainfo['classes']),
    )


def align(reference, member, name):
    """Reorder ``member`` to the sample order of ``reference``."""
    if member['classes'] != reference['classes']:
        raise SystemExit(
            f'{name}: classes {member["classes"]} differ from the first '
            f'member\'s {reference["classes"]}'
        )
    if member['paths'] == reference['paths']:
        return member
    index = {p: i for i, p in enumerate(member['paths'])}
    missing = [p for p in reference['paths'] if p not in index]
    if missing or len(index) != len(reference['paths']):
        raise SystemExit(
            f'{name}: its test set is not the same images as the first '
            f"member's (e.g. {missing[:3] or 'different sizes'})"
        )
    order = torch.tensor([index[p] for p in reference['paths']])
    return dict(
        member,
        probs=member['probs'][order],
        labels=member['labels'][order],
        paths=list(reference['paths']),
    )


def score(probs, labels, classes, out_dir=None):
    """``FERMetric`` figures of a probability table."""
    metric = FERMetric(out_dir=out_dir)
    metric.dataset_meta = dict(classes=classes)
    metric.process(
        None,
        [
            dict(pred_score=p, gt_label=torch.tensor([int(y)]))
            for p, y in zip(probs.float(), labels)
        ],
    )
    return metric.evaluate(len(labels))


def abaw_predictions(paths, labels):
    """``{video: {frame: label}}`` from ``.../<video>/<frame>.jpg`` paths."""
    preds = defaultdict(dict)
    for path, label in zip(paths, labels):
        video = osp.basename(osp.dirname(path))
        frame = int(osp.splitext(osp.basename(path))[0])
        preds[video][frame] = int(label)
    return preds


def main(argv=None):
    enable_weights_only_loading()  # members' checkpoints
    args = parse_args(argv)
    pairs = member_list(args)
    if args.weights is not None and len(args.weights) != len(pairs):
        raise SystemExit(
            f'--weights: {len(args.weights)} values for {len(pairs)} members'
        )
    os.makedirs(args.work_dir, exist_ok=True)
    members, report = [], dict(members=[])
    for k, (cfg, ckpt) in enumerate(pairs):
        out = run_member(cfg, ckpt, args.cfg_options)
        if members:
            out = align(members[0], out, f'member {k} ({cfg})')
        members.append(out)
        metrics = score(out['probs'], out['labels'], out['classes'])
        report['members'].append(dict(config=cfg, checkpoint=ckpt, **metrics))
        print(
            f'member {k}: macro F1 {metrics["fer/macro_f1"]:.2f}  accuracy '
            f'{metrics["fer/accuracy"]:.2f}  ({cfg})',
            flush=True,
        )
    ref = members[0]
    probs = soft_vote([m['probs'] for m in members], args.weights)
    metrics = score(
        probs,
        ref['labels'],
        ref['classes'],
        osp.join(args.work_dir, 'ensemble'),
    )
    report['ensemble'] = dict(weights=args.weights, **metrics)
    print(
        f'ensemble of {len(members)}: macro F1 {metrics["fer/macro_f1"]:.2f}  '
        f'accuracy {metrics["fer/accuracy"]:.2f}',
        flush=True,
    )
    if args.abaw_out:
        files = write_abaw_expr_predictions(
            args.abaw_out,
            abaw_predictions(ref['paths'], probs.argmax(dim=1).tolist()),
            ref['classes'],
        )
        report['abaw_files'] = files
        print(f'{len(files)} ABAW prediction files -> {args.abaw_out}')
    with open(osp.join(args.work_dir, 'ensemble_metrics.json'), 'w') as f:
        json.dump(report, f, indent=2)
    return dict(report, probs=probs, paths=ref['paths'])


if __name__ == '__main__':
    main()

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Why does ARBEx's reference MLP primary head stay at chance from scratch?

A small, CPU-sized version of ``configs/arbex/
arbex_resnet18_1xb64-8e_synthetic-rafdb.py``: a ResNet-18 (narrowed to
``--width`` channels) trained from scratch with ``ARBExHead`` on the
synthetic RAF-DB set, images decoded once and kept in memory at
``--img-size``, AdamW 1e-3 (wd 0.05) with cosine decay, batch 64, the
RAF-DB class weights, ``t = iter / max_iters`` set on the head. Per variant
it prints, for every epoch, the mean primary confidence c(p) and the train
accuracies of p and p_hat, and at the end the test accuracy / macro F1 with
``test_mode='primary'`` and ``'corrected'``::

    python tools/analysis_tools/arbex_primary_experiment.py \\
        --data-root data/synthetic_rafdb --out work_dirs/arbex_primary

Variants (``--variants``): ``reference`` (MLP 384-192-96 with BatchNorm and
dropout 0.5, c(p) not detached), ``detach`` (``detach_confidence=True``),
``warmup`` (``progress_warmup=0.5``), ``no_correction`` (t = 0 throughout:
weighted NLL on p alone), ``no_dropout`` (``dropout=0``),
``no_class_weights`` (uniform class weights) and ``linear`` (one linear
layer, the synthetic configs' choice).
"""

import argparse
import json
import os
import os.path as osp
import time

import numpy as np

VARIANTS = {
    'reference': dict(),
    'detach': dict(detach_confidence=True),
    'warmup': dict(progress_warmup=0.5),
    'no_correction': dict(),  # t fixed at 0 (see run)
    'no_dropout': dict(dropout=0.0),
    'no_class_weights': dict(class_weights=None),
    'linear': dict(hidden_channels=()),
}
# w_c = (N / C) / n_c of RAF-DB (the synthetic set keeps its proportions)
CLASS_WEIGHTS = [1.3589, 6.2384, 2.4449, 0.3674, 0.8845, 2.4865, 0.6945]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data-root', default='data/synthetic_rafdb')
    parser.add_argument('--epochs', type=int, default=10)
    parser.add_argument('--img-size', type=int, default=32)
    parser.add_argument('--width', type=int, default=16)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default='work_dirs/arbex_primary')
    parser.add_argument(
        '--variants', nargs='+', default=list(VARIANTS), choices=VARIANTS
    )
    return parser.parse_args()


def load_split(data_root: str, split: str, size: int):
    """All images of a split as one uint8 tensor (N, 3, size, size)."""
    import mmcv
    import torch

    from fer_mm.datasets import RAFDB

    ds = RAFDB(data_root=data_root, split=split, pipeline=[], lazy_init=False)
    imgs, labels = [], []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        img = mmcv.imresize(mmcv.imread(info['img_path']), (size, size))
        imgs.append(torch.from_numpy(img[..., ::-1].copy()).permute(2, 0, 1))
        labels.append(int(info['gt_label']))
    return torch.stack(imgs), torch.tensor(labels)


def build(head_args: dict, width: int):
    from mmpretrain.registry import MODELS

    head = dict(
        type='ARBExHead',
        num_classes=7,
        in_channels=width * 8,
        hidden_channels=(384, 192, 96),
        num_anchors=10,
        class_weights=CLASS_WEIGHTS,
        log_diagnostics=True,
    )
    head.update(head_args)
    return MODELS.build(
        dict(
            type='FERClassifier',
            data_preprocessor=dict(
                num_classes=7,
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
            ),
            backbone=dict(
                type='ResNet',
                depth=18,
                stem_channels=width,
                base_channels=width,
                out_indices=(3,),
            ),
            neck=dict(type='GlobalAveragePooling'),
            head=head,
        )
    )


def evaluate(model, imgs, labels, mode: str) -> dict:
    import torch

    from fer_mm.evaluation import FERMetric

    model.eval()
    model.head.test_mode = mode
    scores = []
    with torch.no_grad():
        for i in range(0, len(imgs), 256):
            x = model.data_preprocessor(
                dict(inputs=list(imgs[i : i + 256])), False
            )['inputs']
            scores.append(model(x, mode='tensor'))
    res = FERMetric.calculate(torch.cat(scores), labels)
    model.train()
    return dict(acc=round(res['accuracy'], 2), f1=round(res['macro_f1'], 2))


def run(name: str, data, args) -> dict:
    import torch
    from mmpretrain.structures import DataSample

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_x, train_y, test_x, test_y = data
    model = build(VARIANTS[name], args.width)
    model.init_weights()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    per_epoch = len(train_x) // 64
    max_iters = per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        opt, max_iters, eta_min=1e-5
    )
    history, it, start = [], 0, time.perf_counter()
    model.train()
    for epoch in range(args.epochs):
        order = rng.permutation(len(train_x))
        logs = {'conf_primary': [], 'acc_primary': [], 'acc_corrected': []}
        for b in range(per_epoch):
            idx = order[b * 64 : (b + 1) * 64]
            x = train_x[idx].clone()
            flip = torch.from_numpy(rng.random(len(idx)) < 0.5)
            x[flip] = x[flip].flip(-1)
            samples = [DataSample().set_gt_label(int(y)) for y in train_y[idx]]
            data_in = model.data_preprocessor(
                dict(inputs=list(x), data_samples=samples), True
            )
            # t = iter / max_iters (warm-up applied by the head's option)
            ratio = it / max_iters
            warm = model.head.progress_warmup
            model.head.progress = (
                0.0
                if name == 'no_correction'
                else max(ratio - warm, 0.0) / (1 - warm)
            )
            losses = model(**data_in, mode='loss')
            loss = sum(v for k, v in losses.items() if 'loss' in k)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            it += 1
            for key in logs:
                if key in losses:
                    logs[key].append(float(losses[key]))
        row = {k: round(float(np.mean(v)), 4) for k, v in logs.items()}
        row['epoch'] = epoch + 1
        row['t'] = round(float(model.head.progress), 3)
        history.append(row)
        print(name, row, flush=True)
    result = dict(
        variant=name,
        head=VARIANTS[name],
        seconds=round(time.perf_counter() - start, 1),
        history=history,
    )
    for mode in ('primary', 'corrected'):
        model.head.progress = None
        result[f'test_{mode}'] = evaluate(model, test_x, test_y, mode)
    print(name, {k: v for k, v in result.items() if k.startswith('test')})
    return result


def main():
    args = parse_args()
    import torch

    import fer_mm  # noqa: F401

    torch.set_num_threads(1)
    data = (
        *load_split(args.data_root, 'train', args.img_size),
        *load_split(args.data_root, 'test', args.img_size),
    )
    print(f'train {len(data[0])} / test {len(data[2])} images')
    os.makedirs(args.out, exist_ok=True)
    results = [run(n, data, args) for n in args.variants]
    with open(osp.join(args.out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    print(f'results: {osp.join(args.out, "results.json")}')


if __name__ == '__main__':
    main()

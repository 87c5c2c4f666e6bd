# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Cost of one training step with MixAugment relative to vanilla.

    python tools/analysis_tools/benchmark_mixaugment.py \
        [--config configs/mixaugment/vanilla_resnet18_1xb64-8e_synthetic-rafdb.py]
        [--batch-size 64] [--size 64] [--iters 10] [--amp [--amp-dtype D]]

Times full training steps (preprocess, forward, loss, backward, step) at the
same batch size B for: vanilla and Mixup (B images), MixAugment(permute)
(B mixed + B real = 2B forward, ideal ~2x) and MixAugment(independent),
which draws x_i and x_j as two independent batches of B (the loader
delivers 2B) and forwards B mixed + 2B real = 3B (ideal ~3x).
"""

import argparse
import copy
import time

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

import fer_mm  # noqa: F401
from fer_mm.engine import AutocastOptimWrapper

VARIANTS = {
    'vanilla': None,
    'Mixup': dict(type='Mixup', alpha=0.1),
    'MixAugment (permute)': dict(type='MixAugment', alpha=0.1, mode='permute'),
    'MixAugment (independent)': dict(
        type='MixAugment', alpha=0.1, mode='independent'
    ),
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--config',
        default='configs/mixaugment/vanilla_resnet18_1xb64-8e_synthetic-'
        'rafdb.py',
    )
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument(
        '--amp',
        action='store_true',
        help='autocast: bf16 where the CPU has native bf16, else float32',
    )
    parser.add_argument(
        '--amp-dtype',
        default='auto',
        help="with --amp: 'auto' (by the hardware) or a forced dtype",
    )
    return parser.parse_args()


def step_time(cfg, augment, args):
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample

    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.data_preprocessor = copy.deepcopy(cfg.data_preprocessor)
    if augment is not None:
        model_cfg.train_cfg = dict(augments=augment)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).train()
    optim = torch.optim.SGD(model.parameters(), lr=1e-3)
    wrapper = (
        AutocastOptimWrapper(dtype=args.amp_dtype, optimizer=optim)
        if args.amp
        else OptimWrapper(optimizer=optim)
    )
    k = cfg.data_preprocessor.num_classes
    n = args.batch_size * (
        2 if augment and augment.get('mode') == 'independent' else 1
    )
    times = []
    for i in range(args.warmup + args.iters):
        data = dict(
            inputs=[
                torch.randint(
                    0, 255, (3, args.size, args.size), dtype=torch.uint8
                )
                for _ in range(n)
            ],
            data_samples=[DataSample().set_gt_label(j % k) for j in range(n)],
        )
        t0 = time.perf_counter()
        model.train_step(data, wrapper)
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
    return sum(times) / len(times)


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope('mmpretrain')
    print(
        f'batch {args.batch_size}, {args.size}x{args.size}, '
        f'{"bf16 autocast" if args.amp else "fp32"}, '
        f'{torch.get_num_threads()} threads'
    )
    base = None
    for name, aug in VARIANTS.items():
        t = step_time(cfg, aug, args)
        base = base or t
        print(f'  {name:26s} {t * 1000:8.1f} ms/step  {t / base:5.2f}x')


if __name__ == '__main__':
    main()

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Training throughput (img/s) of a config's model, fp32 vs autocast.

    python tools/analysis_tools/benchmark_train.py CONFIG \
        [--batch-size 64] [--size 64] [--iters 20] [--warmup 3]

Times full training steps (forward, loss, backward, optimizer step) on random
images through the config's model and data preprocessor, once in float32 and
once under autocast (bf16 on CPU, fp16 on GPU), and prints both.
"""

import argparse
import time

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

import fer_mm  # noqa: F401
from fer_mm.engine import AutocastOptimWrapper


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument(
        '--size',
        type=int,
        default=None,
        help='input side (default: from the test pipeline)',
    )
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    return parser.parse_args()


def input_size(cfg):
    for t in cfg.test_dataloader.dataset.pipeline:
        if t.get('type') == 'Resize':
            scale = t['scale']
            return scale if isinstance(scale, int) else scale[0]
    return 224


def bench(cfg, amp, batch_size, size, iters, warmup):
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample

    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    wrapper = (
        AutocastOptimWrapper(optimizer=optim)
        if amp
        else OptimWrapper(optimizer=optim)
    )
    num_classes = cfg.model.head.num_classes
    data = dict(
        inputs=[
            torch.randint(0, 255, (3, size, size), dtype=torch.uint8)
            for _ in range(batch_size)
        ],
        data_samples=[
            DataSample().set_gt_label(i % num_classes)
            for i in range(batch_size)
        ],
    )
    times = []
    for i in range(warmup + iters):
        t0 = time.perf_counter()
        model.train_step(data, wrapper)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return batch_size * len(times) / sum(times)


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    size = args.size or input_size(cfg)
    print(
        f'{args.config}: batch {args.batch_size}, {size}x{size}, '
        f'{torch.get_num_threads()} threads, {args.iters} timed steps'
    )
    fp32 = bench(cfg, False, args.batch_size, size, args.iters, args.warmup)
    print(f'  fp32      {fp32:8.1f} img/s')
    amp = bench(cfg, True, args.batch_size, size, args.iters, args.warmup)
    print(f'  autocast  {amp:8.1f} img/s  ({amp / fp32:.2f}x)')


if __name__ == '__main__':
    main()

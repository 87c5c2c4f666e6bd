# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Training throughput (img/s) of a config's model per precision.

    python tools/analysis_tools/benchmark_train.py CONFIG \
        [--batch-size 64] [--size 64] [--iters 20] [--warmup 3] \
        [--precisions float32,bfloat16] [--max-seconds 60]

Times full training steps (forward, loss, backward, optimizer step) on random
images through the config's model and data preprocessor, in each requested
precision: ``float32`` (no autocast), ``bfloat16`` / ``float16`` (autocast
forced, whatever the hardware) and ``auto`` (what ``tools/train.py --amp``
would pick on this machine). The header names the CPU and whether it has
native bf16 (AMX / AVX-512-BF16); without it bf16 is emulated and slow, and
the table says so. Each precision stops after ``--iters`` timed steps or
``--max-seconds``, whichever comes first.
"""

import argparse
import time

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import fer_mm  # noqa: F401
from fer_mm.engine import AutocastOptimWrapper
from fer_mm.utils.precision import (
    cpu_has_native_bf16,
    describe_cpu,
    normalize_precision,
    resolve_autocast_dtype,
)


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
    parser.add_argument(
        '--precisions',
        default='float32,bfloat16',
        help='comma-separated: float32, bfloat16, float16, auto',
    )
    parser.add_argument(
        '--max-seconds',
        type=float,
        default=60.0,
        help='time limit of the timed steps of one precision',
    )
    return parser.parse_args()


def input_size(cfg):
    for t in cfg.test_dataloader.dataset.pipeline:
        if t.get('type') == 'Resize':
            scale = t['scale']
            return scale if isinstance(scale, int) else scale[0]
    return 224


def make_batch(cfg, batch_size, size):
    from mmpretrain.structures import DataSample

    num_classes = cfg.model.head.num_classes
    return dict(
        inputs=[
            torch.randint(0, 255, (3, size, size), dtype=torch.uint8)
            for _ in range(batch_size)
        ],
        data_samples=[
            DataSample().set_gt_label(i % num_classes)
            for i in range(batch_size)
        ],
    )


def bench(cfg, precision, data, iters, warmup, max_seconds):
    """img/s and the number of timed steps of one precision."""
    from mmpretrain.registry import MODELS

    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    optim = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    wrapper = AutocastOptimWrapper(dtype=precision, optimizer=optim)
    batch_size = len(data['inputs'])
    times = []
    for i in range(warmup + iters):
        t0 = time.perf_counter()
        model.train_step(data, wrapper)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
            if sum(times) > max_seconds:
                break
    return batch_size * len(times) / sum(times), len(times)


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    size = args.size or input_size(cfg)
    native = cpu_has_native_bf16()
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    print(f'{args.config}: batch {args.batch_size}, {size}x{size}, {device}')
    print(f'  CPU: {describe_cpu()}')
    print(
        f'  native bf16: {"yes" if native else "no (bf16 autocast is emulated)"}'
    )
    data = make_batch(cfg, args.batch_size, size)
    base = None
    for name in args.precisions.split(','):
        name = normalize_precision(name.strip())
        chosen = resolve_autocast_dtype(device, name, log=False)
        label = str(chosen).replace('torch.', '') if chosen else 'float32'
        if name == 'auto':
            label = f'auto->{label}'
        elif chosen == torch.bfloat16 and device == 'cpu' and not native:
            label += ' (emulated)'
        ips, steps = bench(
            cfg, name, data, args.iters, args.warmup, args.max_seconds
        )
        base = base or ips
        print(
            f'  {label:24s} {ips:8.1f} img/s  ({ips / base:.2f}x, '
            f'{steps} timed steps)',
            flush=True,
        )


if __name__ == '__main__':
    main()

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Training speed of configs' models: fer_mm vs a plain loop, lever by lever.

    python tools/analysis_tools/benchmark_train.py CONFIG [CONFIG ...] \
        [--modes plain,fer_mm,channels_last,compile,foreach,fused,...] \
        [--size 224] [--batch-size 32] [--repeats 3] [--warmup 2] \
        [--iters 4] [--threads N] [--eval] [--startup] [--data] \
        [--profile] [--json out.json]

The side-by-side comparison of issue 14 (DAN-R18 and POSTER V2 at 224, batch
32, fp32, 3 repeats, median; about 20-25 min on a quiet 2-core AVX2 CPU)::

    python tools/analysis_tools/benchmark_train.py \
        configs/dan/dan_resnet18_8xb32-40e_rafdb.py \
        configs/poster_v2/posterv2_8xb18-200e_rafdb.py \
        --size 224 --batch-size 32 --repeats 3 --warmup 2 --iters 3 \
        --modes plain,fer_mm,channels_last,compile,fused \
        --poster-modes plain,fer_mm,channels_last \
        --poster-warmup 1 --poster-iters 1 --eval --startup --data \
        --json work_dirs/benchmark_train.json

Every model is built from its config with random weights (pretrained
checkpoints are not loaded) and trained on one in-memory batch of random
images and labels, so only the computation is timed. Modes (per config,
interleaved within each repeat so that machine drift hits them alike):

* ``plain``: the baseline, a plain PyTorch loop over the same model
  (``model(inputs, data_samples, mode='loss')``, ``sum(losses).backward()``,
  ``optimizer.step()``) with the config's optimizer class built plainly
  (torch.optim, PyTorch's default implementation) on pre-normalised tensors;
  a ``SAMOptimWrapper`` config gets the reference's two-pass SAM step
  written out in the loop;
* ``fer_mm``: ``model.train_step`` with the data preprocessor and the optim
  wrapper built as ``tools/train.py`` builds them, with fer_mm's speed
  defaults (:mod:`fer_mm.engine.speed`: channels_last ``'auto'``);
  ``fer_mm+compile`` adds mmengine's ``compile=True``;
* one lever on top of ``plain``: ``channels_last`` (model and inputs),
  ``compile`` (``torch.compile`` of the model, inductor; its compile time is
  reported apart from the steady-state speed), ``foreach`` / ``fused``
  (optimizer implementations), ``bf16`` (autocast; emulated and slow
  without AMX / AVX-512-BF16); ``all``: every lever above but bf16;
* ``no_grad_frozen`` and ``sdpa`` are already the model defaults (the frozen
  streams of POSTER V2 / ARBEx run under ``torch.no_grad()``, attention goes
  through ``F.scaled_dot_product_attention``): these rows time the plain loop
  with the lever turned *off* (frozen streams in grad mode; explicit
  ``softmax(q k^T / sqrt(d) + bias) v``) and report plain / off, what the
  lever gives. A config without such parts gets ``n/a``.

Reported per mode: img/s (median over ``--repeats``, each ``--iters`` timed
steps after ``--warmup``), the ratio to ``plain``, the achieved GFLOP/s
(img/s x 3 x forward MACs (fvcore, as the tests count) x 2 FLOP/MAC x
passes per step, 2 for SAM) against the CPU's nominal fp32 peak, and for
compiled modes the compile time (first step minus a steady step). The header
names the CPU, its vector units and native-bf16 support, and torch's threads.
``--eval``: a validation step per image vs a training step per image.
``--startup``: ``python -X importtime -c "import fer_mm"`` summarised by
package, and ``tools/train.py``'s phases up to the end of its first
iteration (imports, config, runner, first step) on a generated synthetic
RAF-DB. ``--data``: decode + resize per image (cv2 and Pillow backends) of
that set and the data loader alone with 0, 1 and 2 workers. ``--profile``: the
operators that take the time in one plain step.
"""

import argparse
import copy
import gc
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext

import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

PLAIN_LEVERS = ('channels_last', 'compile', 'foreach', 'fused', 'bf16')
OFF_LEVERS = ('no_grad_frozen', 'sdpa')
MODES = (
    ('plain', 'fer_mm', 'fer_mm+compile', 'all') + PLAIN_LEVERS + OFF_LEVERS
)
DEFAULT_MODES = 'plain,fer_mm,channels_last,compile,foreach,fused'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+', metavar='CONFIG')
    parser.add_argument(
        '--modes',
        default=DEFAULT_MODES,
        help=f'comma-separated, of {", ".join(MODES)} (default: %(default)s)',
    )
    parser.add_argument(
        '--poster-modes',
        help='modes for configs whose backbone is PosterV2 (default: --modes)',
    )
    parser.add_argument(
        '--precisions',
        help='earlier interface: float32 -> plain, bfloat16 -> bf16, auto -> '
        'bf16 where the CPU has native bf16, else plain (replaces --modes)',
    )
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument(
        '--size', type=int, default=None, help='input side (default: 224)'
    )
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--iters', type=int, default=4)
    parser.add_argument(
        '--poster-iters',
        type=int,
        help='timed steps for PosterV2 configs (default: --iters)',
    )
    parser.add_argument(
        '--poster-warmup',
        type=int,
        help='warm-up steps for PosterV2 configs (default: --warmup)',
    )
    parser.add_argument(
        '--threads', type=int, help='torch threads (default: as started)'
    )
    parser.add_argument(
        '--max-seconds',
        type=float,
        default=600.0,
        help='stop the timed steps of one mode-repeat after this long',
    )
    parser.add_argument(
        '--clock',
        choices=('wall', 'process'),
        default='wall',
        help="'wall' (the figure to report) or 'process': this process's "
        'CPU seconds, a rough proxy on a loaded machine (with --threads 1; '
        'a compiled model compiles in worker processes, not counted)',
    )
    parser.add_argument('--eval', action='store_true', help='eval cost')
    parser.add_argument('--startup', action='store_true', help='start-up')
    parser.add_argument('--data', action='store_true', help='data pipeline')
    parser.add_argument(
        '--data-scale',
        type=float,
        default=0.01,
        help='synthetic RAF-DB scale for --startup / --data',
    )
    parser.add_argument('--profile', action='store_true')
    parser.add_argument('--json', help='write every figure here')
    parser.add_argument('--startup-child', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.precisions:
        from fer_mm.utils.precision import cpu_has_native_bf16

        table = dict(float32='plain', fp32='plain', bfloat16='bf16')
        table['bf16'] = 'bf16'
        table['auto'] = 'bf16' if cpu_has_native_bf16() else 'plain'
        picked = []
        for p in args.precisions.split(','):
            if p.strip() not in table:
                parser.error(f'--precisions: unknown {p.strip()!r}')
            if table[p.strip()] not in picked:
                picked.append(table[p.strip()])
        args.modes = ','.join(picked)
    for name in ('modes', 'poster_modes'):
        value = getattr(args, name)
        if value is None:
            continue
        modes = [m.strip() for m in value.split(',') if m.strip()]
        bad = [m for m in modes if m not in MODES]
        if bad:
            parser.error(f'--{name.replace("_", "-")}: unknown {bad}')
        setattr(args, name, modes)
    return args


# ---------------------------------------------------------------------------
# Building
def load_cfg(path):
    from mmengine.config import Config

    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path}')
    return Config.fromfile(path)


def strip_pretrained(model_cfg):
    """Random weights: drop Pretrained init_cfgs and checkpoint paths."""

    def pretrained(value):
        return isinstance(value, dict) and value.get('type') == 'Pretrained'

    def walk(node):
        if isinstance(node, dict):
            for key in list(node):
                value = node[key]
                if key == 'init_cfg' and pretrained(value):
                    node.pop(key)
                elif key.endswith('init_cfg') and pretrained(value):
                    node[key] = None  # e.g. PosterV2's ir50_init_cfg
                elif key == 'init_cfg' and isinstance(value, list):
                    node[key] = [i for i in value if not pretrained(i)]
                else:
                    walk(value)
        elif isinstance(node, (list, tuple)):
            for item in node:
                walk(item)

    walk(model_cfg)
    return model_cfg


def is_poster(cfg):
    backbone = cfg.model.get('backbone') or {}
    return backbone.get('type') in ('PosterV2', 'fer_mm.PosterV2')


def build_model(cfg):
    """The model as the runner builds it (data preprocessor merged),
    random weights initialised by ``init_weights``."""
    from mmpretrain.registry import MODELS

    model_cfg = strip_pretrained(copy.deepcopy(cfg.model))
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def num_classes(cfg):
    head = cfg.model.get('head') or {}
    return head.get('num_classes') or 7


def make_batch(cfg, batch_size, size):
    """One batch as the data loader yields it: uint8 CHW images + labels."""
    from mmpretrain.structures import DataSample

    g = torch.Generator().manual_seed(0)
    k = num_classes(cfg)
    inputs = [
        torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=g)
        for _ in range(batch_size)
    ]
    samples = [DataSample().set_gt_label(i % k) for i in range(batch_size)]
    return dict(inputs=inputs, data_samples=samples)


def sam_config(cfg):
    wrapper = cfg.optim_wrapper
    if wrapper.get('type') in ('SAMOptimWrapper', 'fer_mm.SAMOptimWrapper'):
        return dict(
            rho=wrapper.get('rho', 0.05),
            adaptive=wrapper.get('adaptive', False),
        )
    return None


def plain_optimizer(cfg, params, impl=None):
    """The config's optimizer class from torch.optim, built plainly."""
    from fer_mm.engine.speed import optimizer_impl_kwargs

    opt_cfg = dict(cfg.optim_wrapper.optimizer)
    name = opt_cfg.pop('type')
    cls = getattr(torch.optim, name.split('.')[-1], None)
    if cls is None:
        raise ValueError(
            f'optim_wrapper.optimizer.type {name!r} is not a torch.optim '
            'class; the plain loop needs one'
        )
    opt_cfg.update(optimizer_impl_kwargs(impl))
    return cls(params, **opt_cfg)


# ---------------------------------------------------------------------------
# Levers that are model defaults: switching them off
def explicit_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, scale=None, **kwargs
):
    """``softmax(q k^T * scale + mask) v``, what SDPA computes."""
    scale = query.size(-1) ** -0.5 if scale is None else scale
    attn = query @ key.transpose(-2, -1) * scale
    if attn_mask is not None:
        attn = attn + attn_mask
    attn = attn.softmax(dim=-1)
    if dropout_p:
        attn = F.dropout(attn, dropout_p)
    return attn @ value


@contextmanager
def sdpa_off(model):
    """Explicit attention everywhere SDPA runs (module attributes of
    mmpretrain's MultiheadAttention and torch.nn.functional for the rest)."""
    patched = []
    for m in model.modules():
        if getattr(m, 'scaled_dot_product_attention', None) is not None:
            patched.append((m, m.scaled_dot_product_attention))
            m.scaled_dot_product_attention = explicit_attention
    saved = F.scaled_dot_product_attention
    F.scaled_dot_product_attention = explicit_attention
    try:
        yield
    finally:
        F.scaled_dot_product_attention = saved
        for m, fn in patched:
            m.scaled_dot_product_attention = fn


def frozen_no_grad_modules(model):
    return [m for m in model.modules() if hasattr(m, 'frozen_no_grad')]


@contextmanager
def no_grad_frozen_off(model):
    mods = frozen_no_grad_modules(model)
    for m in mods:
        m.frozen_no_grad = False
    try:
        yield
    finally:
        for m in mods:
            m.frozen_no_grad = True


def off_lever_applies(model, lever):
    if lever == 'no_grad_frozen':
        return any(
            getattr(m, 'freeze_landmark', False)
            or getattr(m, 'freeze_ir50', False)
            for m in frozen_no_grad_modules(model)
        )
    if lever == 'sdpa':
        return any(
            'Attention' in type(m).__name__
            and not isinstance(m, nn.MultiheadAttention)
            for m in model.modules()
        )
    return True


# ---------------------------------------------------------------------------
# Steps
def parse_losses(losses):
    """Sum of every value whose key contains 'loss', as mmengine does."""
    total = 0
    for key, value in losses.items():
        if 'loss' in key:
            if isinstance(value, (list, tuple)):
                value = sum(v.mean() for v in value)
            total = total + value.mean()
    return total


def plain_step_fn(cfg, model, data, levers):
    """A plain training step with the given levers; returns (step, passes)."""
    params = [p for p in model.parameters() if p.requires_grad]
    impl = (
        'fused'
        if 'fused' in levers
        else 'foreach'
        if 'foreach' in levers
        else None
    )
    optimizer = plain_optimizer(cfg, params, impl)
    inputs, samples = data['inputs'], data['data_samples']
    if 'channels_last' in levers:
        model.to(memory_format=torch.channels_last)
        inputs = inputs.contiguous(memory_format=torch.channels_last)
    forward = torch.compile(model) if 'compile' in levers else model
    cast = (
        torch.autocast('cpu', dtype=torch.bfloat16)
        if 'bf16' in levers
        else nullcontext()
    )
    sam = sam_config(cfg)

    def loss_fn():
        with cast:
            return parse_losses(forward(inputs, samples, mode='loss'))

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn().backward()
        if sam is not None:
            # The reference SAM (first_step / second_step).
            with torch.no_grad():
                grads = [p for p in params if p.grad is not None]
                norm = torch.norm(
                    torch.stack(
                        [
                            (
                                (p.abs() if sam['adaptive'] else 1.0) * p.grad
                            ).norm(p=2)
                            for p in grads
                        ]
                    ),
                    p=2,
                )
                scale = sam['rho'] / (norm + 1e-12)
                old = [p.detach().clone() for p in grads]
                for p in grads:
                    w = torch.pow(p, 2) if sam['adaptive'] else 1.0
                    p.add_(w * p.grad * scale)
            optimizer.zero_grad(set_to_none=True)
            loss_fn().backward()
            with torch.no_grad():
                for p, w in zip(grads, old):
                    p.copy_(w)
        optimizer.step()

    return step, 2 if sam is not None else 1


def fer_mm_step_fn(cfg, model, batch, compile_model=False):
    """``model.train_step`` with the optim wrapper of the config, fer_mm's
    speed defaults applied as ``tools/train.py`` applies them."""
    from mmengine.optim import build_optim_wrapper

    from fer_mm.engine.speed import (
        channels_last_applies,
        convert_channels_last,
        parse_channels_last,
    )

    choice = parse_channels_last(cfg.get('channels_last', 'auto'))
    if choice is True or (choice == 'auto' and channels_last_applies(model)):
        convert_channels_last(model)
    optim_wrapper = build_optim_wrapper(
        model, copy.deepcopy(cfg.optim_wrapper)
    )
    if compile_model:
        # What mmengine's Runner does for cfg.compile=True.
        model.train_step = torch.compile(model.train_step)

    def step():
        model.train_step(batch, optim_wrapper)

    return step, 2 if sam_config(cfg) is not None else 1


CLOCKS = dict(wall=time.perf_counter, process=time.process_time)


def time_steps(step, warmup, iters, max_seconds, clock='wall'):
    """Times of the warm-up steps and of the timed steps."""
    now = CLOCKS[clock]
    warm, timed = [], []
    for _ in range(warmup):
        t0 = now()
        step()
        warm.append(now() - t0)
    for _ in range(iters):
        t0 = now()
        step()
        timed.append(now() - t0)
        if sum(timed) > max_seconds:
            break
    return warm, timed


def run_mode(cfg, mode, batch, pre, warmup, iters, max_seconds, clock='wall'):
    """One mode-repeat: a fresh model, warm-up, timed steps."""
    model = build_model(cfg)
    model.train()
    bs = len(batch['inputs'])
    if mode in OFF_LEVERS and not off_lever_applies(model, mode):
        return dict(applies=False)
    if mode in ('fer_mm', 'fer_mm+compile'):
        step, passes = fer_mm_step_fn(
            cfg, model, batch, compile_model=mode == 'fer_mm+compile'
        )
    else:
        levers = {
            'plain': (),
            'all': ('channels_last', 'compile', 'fused'),
        }.get(mode, (mode,))
        step, passes = plain_step_fn(cfg, model, pre, levers)
    if mode == 'no_grad_frozen':
        ctx = no_grad_frozen_off(model)
    elif mode == 'sdpa':
        ctx = sdpa_off(model)
    else:
        ctx = nullcontext()
    with ctx:
        warm, timed = time_steps(step, warmup, iters, max_seconds, clock)
    del model, step
    gc.collect()
    steady = statistics.median(timed)
    out = dict(
        applies=True,
        img_per_s=bs * len(timed) / sum(timed),
        step_s=timed,
        warmup_s=warm,
        passes=passes,
    )
    if 'compile' in mode or mode == 'all':
        out['compile_s'] = max(0.0, warm[0] - steady) if warm else None
    return out


def preprocess(cfg, batch):
    """Normalised float inputs and samples (the plain loop's data)."""
    model = build_model(cfg)
    with torch.no_grad():
        data = model.data_preprocessor(copy.deepcopy(batch), True)
    return dict(inputs=data['inputs'], data_samples=data['data_samples'])


def forward_macs(cfg, size):
    """fvcore MACs of one forward pass (eval mode, one image)."""
    import numpy as np
    from fvcore.nn import FlopCountAnalysis

    def sdpa_macs(inputs, outputs):
        q, k, v = (i.type().sizes() for i in inputs[:3])
        return int(np.prod(q[:-1]) * k[-2] * (q[-1] + v[-1]))

    model = build_model(cfg).eval()
    flops = FlopCountAnalysis(model, torch.rand(1, 3, size, size))
    flops.set_op_handle('aten::scaled_dot_product_attention', sdpa_macs)
    flops.unsupported_ops_warnings(False)
    flops.uncalled_modules_warnings(False)
    return float(flops.total())


# ---------------------------------------------------------------------------
# Eval, profile
def eval_cost(cfg, batch, iters):
    """Seconds per image of a validation step and of a training step."""
    from mmengine.optim import build_optim_wrapper

    model = build_model(cfg)
    model.eval()
    bs = len(batch['inputs'])
    times = []
    for _ in range(iters + 1):
        t0 = time.perf_counter()
        model.val_step(copy.deepcopy(batch))
        times.append(time.perf_counter() - t0)
    val = statistics.median(times[1:]) / bs
    model.train()
    wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        model.train_step(copy.deepcopy(batch), wrapper)
        times.append(time.perf_counter() - t0)
    train = times[-1] / bs
    return dict(val_s_per_img=val, train_s_per_img=train, ratio=val / train)


def profile_step(cfg, pre, top=15):
    from torch.profiler import ProfilerActivity, profile

    model = build_model(cfg)
    model.train()
    step, _ = plain_step_fn(cfg, model, pre, ())
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    table = prof.key_averages().table(
        sort_by='self_cpu_time_total', row_limit=top
    )
    total = sum(e.self_cpu_time_total for e in prof.key_averages())
    groups = {}
    for e in prof.key_averages():
        name = e.key
        kind = (
            'convolution'
            if 'conv' in name
            else 'matmul/linear'
            if any(k in name for k in ('mm', 'linear', 'addmm', 'matmul'))
            else 'batch/layer norm'
            if 'norm' in name
            else 'attention'
            if 'attention' in name or 'softmax' in name
            else 'optimizer'
            if 'Optimizer' in name or '_foreach' in name
            else 'other'
        )
        groups[kind] = groups.get(kind, 0) + e.self_cpu_time_total
    shares = {k: v / total for k, v in sorted(groups.items())}
    return table, shares


# ---------------------------------------------------------------------------
# Start-up and data pipeline
def importtime_summary():
    """``python -X importtime -c 'import fer_mm'``: the import's wall time
    and the self time of every imported module summed by top-level package
    (where the import time goes)."""
    cmd = [sys.executable, '-X', 'importtime', '-c', 'import fer_mm']
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=REPO, check=True
    )
    wall = time.perf_counter() - t0
    return dict(wall_s=wall, by_package_s=importtime_by_package(proc.stderr))


def importtime_by_package(stderr):
    """Self seconds by top-level package from ``-X importtime`` lines
    (``import time: self | cumulative | name``, microseconds)."""
    by_pkg = {}
    for line in stderr.splitlines():
        parts = line.split('|')
        if not line.startswith('import time:') or len(parts) != 3:
            continue
        try:
            self_us = int(parts[0].split(':')[1])
        except ValueError:
            continue  # the header line
        pkg = parts[2].strip().split('.')[0]
        by_pkg[pkg] = by_pkg.get(pkg, 0.0) + self_us / 1e6
    return by_pkg


def generate_data(root, scale):
    tool = osp.join(REPO, 'tools', 'misc', 'generate_synthetic.py')
    subprocess.run(
        [sys.executable, tool, root, '--scale', str(scale), '--seed', '0'],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )


def data_cfg(cfg, root, batch_size, workers):
    loader = copy.deepcopy(cfg.train_dataloader)
    loader.dataset.data_root = root
    loader.batch_size = batch_size
    loader.num_workers = workers
    loader.persistent_workers = workers > 0
    return loader


def startup_child(argv):
    """The phases of ``tools/train.py`` up to the end of its first step,
    printed as JSON (runs in a fresh interpreter)."""
    t_start = float(os.environ['FER_MM_BENCH_T0'])
    cfg_path, root, bs = argv[0], argv[1], int(argv[2])
    phases = {'interpreter': time.time() - t_start}
    t = time.time()
    import fer_mm  # noqa: F401
    from fer_mm.engine.runner_setup import (  # noqa: F401
        load_config,
        set_metric_out_dirs,
    )

    phases['import fer_mm'] = time.time() - t
    t = time.time()
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    phases['import runner'] = time.time() - t
    t = time.time()
    cfg = load_cfg(cfg_path)
    cfg.model = strip_pretrained(cfg.model)
    cfg.train_dataloader = data_cfg(cfg, root, bs, 0)
    for key in ('val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            cfg[key] = None
    cfg.val_cfg = cfg.val_evaluator = cfg.test_cfg = cfg.test_evaluator = None
    cfg.sync_bn = None
    cfg.work_dir = tempfile.mkdtemp()
    from fer_mm.engine.speed import setup_speed

    setup_speed(cfg)
    phases['config'] = time.time() - t
    t = time.time()
    runner = Runner.from_cfg(cfg)
    phases['runner'] = time.time() - t
    marks = {}

    class Mark(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            marks['first_iter_start'] = time.time()

        def after_train_iter(self, runner, batch_idx, **kwargs):
            marks['first_iter_end'] = time.time()
            phases['train() to first step'] = (
                marks['first_iter_start'] - marks['train']
            )
            phases['first step'] = (
                marks['first_iter_end'] - (marks['first_iter_start'])
            )
            phases['total to end of first step'] = (
                marks['first_iter_end'] - t_start
            )
            print('STARTUP ' + json.dumps(phases), flush=True)
            os._exit(0)

    runner.register_hook(Mark(), priority='LOWEST')
    marks['train'] = time.time()
    runner.train()


def startup_cost(cfg_path, root, batch_size):
    env = dict(os.environ, FER_MM_BENCH_T0=repr(time.time()))
    proc = subprocess.run(
        [
            sys.executable,
            osp.abspath(__file__),
            cfg_path,
            '--startup-child',
            f'{cfg_path},{root},{batch_size}',
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
    )
    for line in proc.stdout.splitlines():
        if line.startswith('STARTUP '):
            return json.loads(line[len('STARTUP ') :])
    raise RuntimeError(
        f'start-up child failed ({proc.returncode}):\n{proc.stderr[-3000:]}'
    )


def decode_resize_cost(root, size, limit=200):
    """ms per image of decode and of resize, cv2 and Pillow backends."""
    import glob

    import mmcv
    import numpy as np

    files = sorted(
        glob.glob(osp.join(root, '**', '*.jpg'), recursive=True)
        + glob.glob(osp.join(root, '**', '*.png'), recursive=True)
    )[:limit]
    if not files:
        raise FileNotFoundError(f'no images under {root}')
    blobs = []
    for f in files:
        with open(f, 'rb') as fh:
            blobs.append(fh.read())
    out = {}
    for backend in ('cv2', 'pillow'):
        t0 = time.perf_counter()
        imgs = [mmcv.imfrombytes(b, backend=backend) for b in blobs]
        decode = (time.perf_counter() - t0) / len(blobs)
        t0 = time.perf_counter()
        for img in imgs:
            mmcv.imresize(img, (size, size), backend=backend)
        resize = (time.perf_counter() - t0) / len(blobs)
        out[backend] = dict(decode_ms=decode * 1e3, resize_ms=resize * 1e3)
    out['source_side'] = int(np.asarray(imgs[0]).shape[0])
    out['images'] = len(blobs)
    return out


def loader_throughput(cfg, root, batch_size, workers, max_batches=8):
    """img/s of the config's train data loader alone."""
    from mmengine.runner import Runner

    loader = Runner.build_dataloader(
        data_cfg(cfg, root, batch_size, workers), seed=0
    )
    t0 = time.perf_counter()
    n = 0
    first = None
    for i, data in enumerate(loader):
        n += len(data['inputs'])
        if first is None:
            first = time.perf_counter() - t0
        if i + 1 >= max_batches:
            break
    total = time.perf_counter() - t0
    del loader
    return dict(img_per_s=n / total, images=n, first_batch_s=first)


# ---------------------------------------------------------------------------
def header():
    from fer_mm.engine.speed import cpu_ghz, fp32_flops_per_cycle, peak_gflops
    from fer_mm.utils.precision import cpu_capabilities, describe_cpu

    caps = cpu_capabilities()
    cores = os.cpu_count() or 1
    ghz = cpu_ghz()
    fpc = fp32_flops_per_cycle(caps)
    peak = peak_gflops(cores, ghz, fpc) if ghz else None
    info = dict(
        cpu=describe_cpu(),
        capabilities=caps,
        cores=cores,
        torch_threads=torch.get_num_threads(),
        ghz=ghz,
        fp32_flops_per_cycle_core=fpc,
        nominal_peak_gflops=peak,
        torch=torch.__version__,
        load_average=os.getloadavg(),
    )
    print(f'CPU: {info["cpu"]}')
    print(
        f'  {cores} cores, torch {torch.__version__}, '
        f'{info["torch_threads"]} torch threads; load average '
        + ', '.join(f'{x:.2f}' for x in info['load_average'])
    )
    if peak:
        print(
            f'  nominal fp32 peak {peak:.0f} GFLOP/s = {cores} cores x '
            f'{ghz:.2f} GHz x {fpc} FLOP/cycle (2 FMA units x vector lanes '
            'x 2)'
        )
    return info


def summarise(results, bs, macs, peak):
    from fer_mm.engine.speed import achieved_gflops

    base = results.get('plain', {}).get('median_img_per_s')
    for mode, r in results.items():
        if not r.get('applies', True):
            print(
                f'  {mode:16s}      n/a (no such part, or no switch for it, in this model)'
            )
            continue
        ips = r['median_img_per_s']
        gflops = achieved_gflops(ips, macs, r['passes'])
        r['gflops'] = gflops
        line = f'  {mode:16s} {ips:8.2f} img/s'
        if mode in OFF_LEVERS:
            # rows of levers that are defaults were timed with them off
            ratio = base / ips if base else None
            r['lever_ratio'] = ratio
            line += f'  (lever off; plain/off {ratio:.2f}x)'
        elif base:
            r['ratio_to_plain'] = ips / base
            line += f'  {ips / base:5.2f}x plain'
        line += f'  {gflops:7.1f} GFLOP/s'
        if peak:
            line += f' ({100 * gflops / peak:4.1f} % of peak)'
        if r.get('compile_s') is not None:
            line += f'  compile {r["compile_s"]:.0f} s'
        spread = ', '.join(f'{x:.2f}' for x in r['repeats_img_per_s'])
        print(line + f'  [{spread}]', flush=True)


def bench_config(path, args, info):
    from mmengine.registry import init_default_scope

    cfg = load_cfg(path)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    size = args.size or 224
    poster = is_poster(cfg)
    modes = (args.poster_modes or args.modes) if poster else args.modes
    iters = (args.poster_iters or args.iters) if poster else args.iters
    warmup = args.warmup
    if poster and args.poster_warmup is not None:
        warmup = args.poster_warmup
    bs = args.batch_size
    batch = make_batch(cfg, bs, size)
    pre = preprocess(cfg, batch)
    macs = forward_macs(cfg, size)
    sam = sam_config(cfg) is not None
    print(
        f'\n{path}: batch {bs}, {size}x{size}, fp32, {args.repeats} '
        f'repeats x ({warmup} warm-up + {iters} timed steps), median '
        f'({args.clock} clock); '
        f'forward {macs / 1e9:.2f} GMACs/img (fvcore)'
        + ('; SAM: 2 passes per step' if sam else ''),
        flush=True,
    )
    runs = {m: [] for m in modes}
    for rep in range(args.repeats):
        for mode in modes:
            r = run_mode(
                cfg,
                mode,
                copy.deepcopy(batch),
                pre,
                warmup,
                iters,
                args.max_seconds,
                args.clock,
            )
            runs[mode].append(r)
            if r['applies']:
                print(
                    f'    repeat {rep + 1} {mode:16s} '
                    f'{r["img_per_s"]:7.2f} img/s',
                    flush=True,
                )
    results = {}
    for mode, rs in runs.items():
        if not rs[0]['applies']:
            results[mode] = dict(applies=False)
            continue
        ips = [r['img_per_s'] for r in rs]
        results[mode] = dict(
            applies=True,
            median_img_per_s=statistics.median(ips),
            repeats_img_per_s=ips,
            passes=rs[0]['passes'],
            steps=[r['step_s'] for r in rs],
        )
        comp = [r['compile_s'] for r in rs if r.get('compile_s') is not None]
        if comp:
            results[mode]['compile_s'] = comp[0]
            results[mode]['compile_s_repeats'] = comp
    print(f'  --- {path} (median of {args.repeats})')
    summarise(results, bs, macs, info.get('nominal_peak_gflops'))
    out = dict(
        config=path,
        batch_size=bs,
        size=size,
        forward_macs=macs,
        sam=sam,
        warmup=warmup,
        iters=iters,
        modes=results,
    )
    if args.eval:
        out['eval'] = eval_cost(cfg, batch, 2)
        e = out['eval']
        print(
            f'  eval: {1e3 * e["val_s_per_img"]:.1f} ms/img vs training '
            f'{1e3 * e["train_s_per_img"]:.1f} ms/img '
            f'({e["ratio"]:.2f}x of a training image)',
            flush=True,
        )
    if args.profile:
        table, shares = profile_step(cfg, pre)
        out['profile_shares'] = shares
        print('  profile of one plain step (self CPU time):')
        print(
            '  ' + ', '.join(f'{k} {100 * v:.0f} %' for k, v in shares.items())
        )
        print(table)
    return out


def main(argv=None):
    args = parse_args(argv)
    if args.startup_child:
        startup_child(args.startup_child.split(','))
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    import logging

    from mmengine.logging import MMLogger

    import fer_mm  # noqa: F401

    # init_weights logs every parameter: keep the output to the figures
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    info = header()
    report = dict(machine=info, configs=[])
    for path in args.configs:
        report['configs'].append(bench_config(path, args, info))
    if args.startup or args.data:
        root = tempfile.mkdtemp(prefix='fer_mm_bench_')
        generate_data(root, args.data_scale)
    if args.startup:
        imp = importtime_summary()
        report['import'] = imp
        top = sorted(imp['by_package_s'].items(), key=lambda kv: -kv[1])
        print(
            f'\nstart-up: `import fer_mm` {imp["wall_s"]:.1f} s wall; '
            'cumulative import time by package: '
            + ', '.join(f'{k} {v:.2f} s' for k, v in top[:8])
        )
        report['startup'] = {}
        for path in args.configs:
            phases = startup_cost(path, root, args.batch_size)
            report['startup'][path] = phases
            print(
                f'  tools/train.py phases, {osp.basename(path)}: '
                + ', '.join(f'{k} {v:.1f} s' for k, v in phases.items())
            )
    if args.data:
        size = args.size or 224
        dec = decode_resize_cost(root, size)
        report['data'] = dict(decode_resize=dec, loader={})
        print(
            f'\ndata: {dec["images"]} synthetic RAF-DB images '
            f'({dec["source_side"]} px) to {size} px, per image: '
            + '; '.join(
                f'{b} decode {dec[b]["decode_ms"]:.2f} ms + resize '
                f'{dec[b]["resize_ms"]:.2f} ms'
                for b in ('cv2', 'pillow')
            )
        )
        cfg = load_cfg(args.configs[0])
        for workers in (0, 1, 2):
            r = loader_throughput(cfg, root, args.batch_size, workers)
            report['data']['loader'][workers] = r
            print(
                f'  train loader of {osp.basename(args.configs[0])}, '
                f'{workers} workers: {r["img_per_s"]:.0f} img/s '
                f'(first batch {r["first_batch_s"]:.2f} s)',
                flush=True,
            )
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=1, default=str)
        print(f'\nwritten: {args.json}')
    return report


if __name__ == '__main__':
    main()

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Train a model from a config (the OpenMMLab command line).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|CKPT]]
        [--amp [--amp-dtype auto|bfloat16|float32]] [--cfg-options k=v ...] [--launcher none|pytorch]
        [--channels-last auto|on|off] [--compile]

Multi-process (DDP) training: ``tools/dist_train.sh CONFIG NUM_PROCS``; on a
machine without a GPU it runs on the gloo backend.
"""

import argparse

import fer_mm  # noqa: F401  (registers fer_mm's modules)
from fer_mm.engine.runner_setup import (
    add_amp_args,
    add_common_args,
    build_runner,
    check_resume,
    load_config,
    log_batch_augments,
    set_metric_out_dirs,
    setup_amp,
    setup_launcher,
    use_atomic_checkpoint_hook,
)
from fer_mm.engine.speed import add_speed_args, setup_speed
from fer_mm.utils import enable_weights_only_loading


def parse_args():
    parser = argparse.ArgumentParser(description='Train a fer_mm model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from a checkpoint; without a value, from the latest '
        'checkpoint in the work dir',
    )
    add_amp_args(parser)
    add_speed_args(parser)
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate with the total batch size',
    )
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='skip validation during training',
    )
    add_common_args(parser)
    return parser.parse_args()


def main():
    # load_from and --resume: local checkpoints are unpickled weights-only.
    enable_weights_only_loading()
    args = parse_args()
    cfg = load_config(args)
    if args.amp:
        setup_amp(cfg, args.amp_dtype)
    # channels_last ('auto' by default) and torch.compile (off by default)
    setup_speed(cfg, args.channels_last, args.compile)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    check_resume(cfg)
    use_atomic_checkpoint_hook(cfg)
    if args.auto_scale_lr:
        cfg.setdefault('auto_scale_lr', {})['enable'] = True
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    set_metric_out_dirs(cfg)
    setup_launcher(cfg)
    log_batch_augments(cfg)

    runner = build_runner(cfg)
    runner.train()


if __name__ == '__main__':
    main()

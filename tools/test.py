# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Evaluate a checkpoint (the OpenMMLab command line).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE.pkl]
        [--cfg-options k=v ...] [--launcher none|pytorch]

Metrics are printed and, for FERMetric, a confusion-matrix PNG and a JSON of
every value are written under ``<work-dir>/test/``.
"""

import argparse
import os.path as osp

import fer_mm  # noqa: F401  (registers fer_mm's modules)
from fer_mm.engine.runner_setup import (
    add_amp_args,
    add_common_args,
    build_runner,
    load_config,
    set_metric_out_dirs,
    setup_launcher,
    setup_test_amp,
)
from fer_mm.utils import enable_weights_only_loading


def parse_args():
    parser = argparse.ArgumentParser(description='Test a fer_mm model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='dump every prediction (scores, labels) to this pickle file',
    )
    add_amp_args(parser)
    add_common_args(parser)
    return parser.parse_args()


def check_checkpoint_fits(model, checkpoint: str) -> None:
    """Refuse a checkpoint that does not fit the config's model.

    mmengine loads ``load_from`` non-strictly: keys that do not match are
    only logged, and the test would score a partly random model. Every key
    must be there with its shape (names the missing / unexpected keys).
    """
    from mmengine.model import is_model_wrapper

    from fer_mm.apis.model import check_state_dict, state_dict_of
    from fer_mm.utils import load_checkpoint_file

    model = model.module if is_model_wrapper(model) else model
    state = state_dict_of(load_checkpoint_file(checkpoint), checkpoint)
    check_state_dict(model, state, checkpoint)


def main():
    # the checkpoint is unpickled weights-only.
    enable_weights_only_loading()
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.amp:
        setup_test_amp(cfg, args.amp_dtype)
    set_metric_out_dirs(cfg)
    setup_launcher(cfg)

    from mmengine.evaluator import DumpResults

    runner = build_runner(cfg)
    check_checkpoint_fits(runner.model, args.checkpoint)
    if args.out:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got {args.out}')
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out)
        )
    runner.test()


if __name__ == '__main__':
    main()

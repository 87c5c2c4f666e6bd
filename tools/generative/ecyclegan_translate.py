# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Translate source-class faces with a trained ECycleGAN into training data.

    python tools/generative/ecyclegan_translate.py CONFIG CHECKPOINT OUT_DIR
        [--num 100] [--seed S] [--split train] [--batch-size 16]
        [--cfg-options k=v ...]

Takes the first ``--num`` source-class images of the config's training set
(or ``--num`` drawn with ``--seed``), translates them to the target class and
writes a RAF-DB basic tree under OUT_DIR (aligned JPEGs + list file, read by
``RAFDB(data_root=OUT_DIR)``; see configs/ecyclegan/README.md for adding it
to a classifier), ``sources.txt`` and a before/after grid
``before_after.png``. Prints the translation throughput in images/s.
"""

import argparse
import json
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import fer_mm  # noqa: F401  (registers fer_mm's modules)
from fer_mm.utils.checkpoint import load_checkpoint_file


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='ECycleGAN config file')
    parser.add_argument('checkpoint', help='trained checkpoint (.pth)')
    parser.add_argument('out_dir', help='root of the RAF-DB tree to write')
    parser.add_argument(
        '--num', type=int, default=100, help='images to translate'
    )
    parser.add_argument(
        '--seed',
        type=int,
        default=None,
        help='draw the source images with this seed (default: the first '
        '--num in dataset order)',
    )
    parser.add_argument(
        '--split',
        default=None,
        help="split of the wrapped FER dataset (default: the config's)",
    )
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument(
        '--grid', type=int, default=16, help='pairs in before_after.png'
    )
    parser.add_argument(
        '--prefix', default='train_ecyclegan', help='file-name prefix'
    )
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy format',
    )
    return parser.parse_args()


def main():
    args = parse_args()
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmagic'))

    from mmagic.registry import DATASETS, MODELS

    from fer_mm.generative.ecyclegan.export import (
        select_sources,
        translate_to_rafdb,
    )

    # The perceptual loss is not needed to translate: skip its VGG weights.
    model_cfg = cfg.model.copy()
    model_cfg.pop('perceptual_loss', None)
    model = MODELS.build(model_cfg)
    ckpt = load_checkpoint_file(args.checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    state = {k: v for k, v in state.items() if '.vgg' not in k}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith('perceptual_loss')]
    unexpected = [k for k in unexpected if not k.startswith('perceptual_loss')]
    if missing or unexpected:
        raise KeyError(
            f'{args.checkpoint} does not match the model of {args.config}: '
            f'missing keys {missing[:5]}, unexpected keys {unexpected[:5]}'
        )

    if 'train_dataloader' not in cfg or 'dataset' not in cfg.train_dataloader:
        raise KeyError(
            f'{args.config}: expected train_dataloader.dataset (an '
            'UnpairedExpressionDataset config)'
        )
    ds_cfg = cfg.train_dataloader.dataset.copy()
    if 'test_pipeline' not in cfg:
        raise KeyError(
            f'{args.config}: expected a top-level test_pipeline (loading and '
            'resizing both domains, then PackInputs)'
        )
    ds_cfg.update(test_mode=True, pipeline=cfg.test_pipeline)
    if args.split is not None:
        ds_cfg.dataset = dict(ds_cfg.dataset, split=args.split)
    dataset = DATASETS.build(ds_cfg)
    positions = select_sources(len(dataset.indices_a), args.num, args.seed)

    torch.manual_seed(0)
    stats = translate_to_rafdb(
        model,
        dataset,
        positions,
        args.out_dir,
        batch_size=args.batch_size,
        prefix=args.prefix,
        grid_size=args.grid,
        progress=not args.no_progress,
    )
    with open(osp.join(args.out_dir, 'translate_stats.json'), 'w') as f:
        json.dump(stats, f, indent=2)
    print(
        f'translated {stats["num_images"]} {dataset.source_class} -> '
        f'{dataset.target_class} images into {args.out_dir}: '
        f'{stats["images_per_s"]:.1f} images/s (generator), '
        f'{stats["num_images"] / stats["total_seconds"]:.1f} images/s '
        '(with loading and writing)'
    )


if __name__ == '__main__':
    main()

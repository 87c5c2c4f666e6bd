# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Fill the long tail with VAE-GAN class-covariance augmentations.

    python tools/generative/vaegan_generate.py CONFIG CHECKPOINT OUT_DIR
        [--classes Fear Disgust ...] [--num N | --target-count N]
        [--strength 0.5] [--form diag|full|diag_var] [--scale covariance|std]
        [--stats-out STATS.pth] [--seed 0]

Encodes the training set of CONFIG (its ``train_dataloader.dataset`` read
with ``encode_pipeline``), computes each class's covariance of the codes
:math:`E_\\mu(x)`, and decodes ``z' = mu(x) + s * A_c r`` for source samples
``x`` of each chosen class (Li et al., https://arxiv.org/abs/2411.17254).
By default every class below the head class is filled up to the head count
(or to ``--target-count``); ``--num`` writes N images per chosen class.

OUT_DIR receives a RAF-DB-layout tree that ``RAFDB`` reads as its train
split (so ``GeneratedMixDataset`` can mix it in), a grid PNG for a person to
look at, and a JSON record::

    OUT_DIR/
    ├── basic/EmoLabel/list_patition_label.txt   # "train_vaegan_000001.jpg 2"
    ├── basic/Image/aligned/train_vaegan_000001_aligned.jpg ...
    ├── vaegan_samples.png     # per class: sources over their augmentations
    └── vaegan_generation.json # settings, counts, images/s, source of each
"""

import argparse
import json
import os
import os.path as osp
import shutil
import sys
import time

import mmcv
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch.utils.data import DataLoader
from tqdm import tqdm

import fer_mm  # noqa: F401  (registers fer_mm's modules)
import fer_mm.generative  # noqa: F401  (registers the VAE-GAN in mmagic)
from fer_mm.datasets.categories import RAFDB_CATEGORIES, canonical_name
from fer_mm.generative.vaegan import ClassCovarianceAugmenter
from fer_mm.generative.vaegan.latent_augment import class_latent_statistics
from fer_mm.utils.checkpoint import load_checkpoint_file

PREFIX = 'train_vaegan_'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='VAE-GAN config file')
    parser.add_argument('checkpoint', help='trained VAE-GAN checkpoint')
    parser.add_argument('out_dir', help='root of the RAF-DB tree to write')
    parser.add_argument(
        '--classes',
        nargs='+',
        help='classes to generate (names or 0-based indices); default: '
        'every class below the target count',
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        '--num', type=int, help='images per chosen class (fixed number)'
    )
    group.add_argument(
        '--target-count',
        type=int,
        help='fill each chosen class up to this many (original + '
        'generated); default: the head class count',
    )
    parser.add_argument(
        '--strength',
        type=float,
        default=0.5,
        help="augmentation strength s: z' ~ N(mu, s * A_c A_c^T) (eq. 4; "
        "--scale std: z' = mu + s * A_c r)",
    )
    parser.add_argument(
        '--scale',
        default='covariance',
        choices=ClassCovarianceAugmenter.SCALES,
        help='how s enters: covariance (the paper, default) or std',
    )
    parser.add_argument(
        '--stats-out',
        help='also save the per-class code statistics (mean, cov, count) '
        'here, for online augmentation (VAEGANLatentAugment)',
    )
    parser.add_argument(
        '--form',
        default='diag',
        choices=ClassCovarianceAugmenter.FORMS,
        help='covariance form: diag (std per dimension), full (Cholesky), '
        'diag_var (eq. 4 literally, variances)',
    )
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an existing OUT_DIR/basic tree',
    )
    parser.add_argument('--workers', type=int, default=0)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--grid-per-class',
        type=int,
        default=8,
        help='augmented images per class row of the grid PNG',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, xxx=yyy format',
    )
    return parser.parse_args(argv)


def build_model(cfg: Config, checkpoint: str):
    """The VAE-GAN of ``cfg`` with the (weights-only) checkpoint loaded."""
    from mmagic.registry import MODELS

    model = MODELS.build(cfg.model)
    ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(
            f'checkpoint {checkpoint}: expected a state dict (or a dict '
            "with 'state_dict'), got {type(ckpt).__name__}"
        )
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise KeyError(
            f'checkpoint {checkpoint} does not fit model {cfg.model.type} '
            f'of the config: missing {missing[:5]}, unexpected '
            f'{unexpected[:5]}'
        )
    return model.eval()


def build_dataset(cfg: Config):
    """The config's training set, read with its ``encode_pipeline``."""
    from mmagic.registry import DATASETS

    if 'train_dataloader' not in cfg or 'dataset' not in cfg.train_dataloader:
        raise KeyError('config has no train_dataloader.dataset to encode')
    if 'encode_pipeline' not in cfg:
        raise KeyError(
            'config has no encode_pipeline (the deterministic pipeline used '
            'to encode the training set, see configs/vaegan/)'
        )
    ds_cfg = cfg.train_dataloader.dataset.copy()
    ds_cfg.pipeline = cfg.encode_pipeline
    dataset = DATASETS.build(ds_cfg)
    classes = tuple(dataset.metainfo.get('classes') or ())
    if classes != RAFDB_CATEGORIES:
        raise ValueError(
            'the output is a RAF-DB basic tree, so the training set must have '
            f'RAF-DB basic classes {list(RAFDB_CATEGORIES)}; the config '
            f'dataset has {list(classes)}'
        )
    return dataset


@torch.no_grad()
def encode(model, dataset, batch_size: int, workers: int):
    """Codes ``E_mu(x)`` of every sample, in dataset order."""
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
        collate_fn=pseudo_collate,
    )
    codes = []
    for batch in tqdm(loader, desc='encode', unit='batch'):
        inputs = model.data_preprocessor(batch, False)['inputs']
        codes.append(model.encode(model._real_images(inputs))[0].float())
    return torch.cat(codes)


def resolve_classes(names, counts: np.ndarray, target: int):
    """Class indices from names / indices, or the classes below target."""
    if not names:
        return [c for c in range(len(counts)) if counts[c] < target]
    wanted = []
    for name in names:
        if name.isdigit() and int(name) < len(RAFDB_CATEGORIES):
            wanted.append(int(name))
            continue
        try:
            canon = canonical_name(name)
        except KeyError:
            canon = None
        matches = [
            i
            for i, cls in enumerate(RAFDB_CATEGORIES)
            if canonical_name(cls) == canon
        ]
        if not matches:
            raise ValueError(
                f'--classes: unknown class {name!r}; expected one of '
                f'{list(RAFDB_CATEGORIES)} or 0..{len(RAFDB_CATEGORIES) - 1}'
            )
        wanted.append(matches[0])
    return sorted(set(wanted))


def to_bgr_uint8(imgs: torch.Tensor, preprocessor) -> np.ndarray:
    """Generator output (normalised, model channel order) -> BGR uint8."""
    mean = preprocessor.mean.view(1, -1, 1, 1)
    std = preprocessor.std.view(1, -1, 1, 1)
    imgs = imgs * std + mean
    if str(getattr(preprocessor, 'output_channel_order', '')).upper() == (
        'RGB'
    ):
        imgs = imgs.flip(1)
    imgs = imgs.clamp(0, 255).round().byte().permute(0, 2, 3, 1)
    return imgs.cpu().numpy()


def write_grid(path, rows, cell: int) -> None:
    """Save rows of BGR images (one row per class) as one PNG."""
    width = max(len(r) for r in rows)
    grid = np.full((len(rows) * cell, width * cell, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            grid[i * cell : (i + 1) * cell, j * cell : (j + 1) * cell] = (
                mmcv.imresize(img, (cell, cell))
            )
    mmcv.imwrite(grid, path)


def save_statistics(path: str, stats: dict, args) -> None:
    """Per-class code statistics for ``VAEGANLatentAugment``."""
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    torch.save(
        dict(
            mean=stats['mean'],
            cov=stats['cov'],
            count=stats['count'],
            classes=list(RAFDB_CATEGORIES),
            config=args.config,
            checkpoint=args.checkpoint,
        ),
        path,
    )
    print(f'class statistics of the codes: {path}')


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    torch.manual_seed(args.seed)
    tree = osp.join(args.out_dir, 'basic')
    if osp.exists(tree) and not args.overwrite:
        raise FileExistsError(
            f'{tree} exists (an earlier generation?); pass --overwrite to '
            'replace it or choose another OUT_DIR'
        )
    model = build_model(cfg, args.checkpoint).to(args.device)
    dataset = build_dataset(cfg)

    labels = torch.as_tensor(np.asarray(dataset.get_gt_labels()))
    num_classes = len(RAFDB_CATEGORIES)
    counts = np.bincount(labels.numpy(), minlength=num_classes)
    target = args.target_count or int(counts.max())
    chosen = resolve_classes(args.classes, counts, target)
    plan = {
        c: args.num if args.num is not None else max(0, target - counts[c])
        for c in chosen
    }
    plan = {c: int(n) for c, n in plan.items() if n > 0}
    if not plan and not args.stats_out:
        print(
            'nothing to generate: every chosen class has >= '
            f'{target} samples'
        )
        return
    short = [RAFDB_CATEGORIES[c] for c in plan if counts[c] < 2]
    if short:
        raise ValueError(
            f'classes {short} have fewer than 2 training samples: no '
            'covariance to augment with'
        )

    codes = encode(model, dataset, args.batch_size, args.workers)
    stats = class_latent_statistics(codes, labels, num_classes)
    if args.stats_out:
        save_statistics(args.stats_out, stats, args)
        if not plan:
            return
    augmenter = ClassCovarianceAugmenter(
        stats['cov'],
        stats['count'],
        strength=args.strength,
        form=args.form,
        scale=args.scale,
    )
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    sources = []
    for c, n in plan.items():
        members = np.flatnonzero(labels.numpy() == c)
        sources.append(np.resize(rng.permutation(members), n))
    sources = np.concatenate(sources)
    codes = codes.to(args.device)

    if osp.exists(tree):
        shutil.rmtree(tree)
    img_dir = osp.join(args.out_dir, 'basic', 'Image', 'aligned')
    ann_dir = osp.join(args.out_dir, 'basic', 'EmoLabel')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(ann_dir, exist_ok=True)
    records, lines = [], []
    grid_rows = {c: [] for c in plan}
    start = time.perf_counter()
    with tqdm(total=len(sources), desc='generate', unit='img') as bar:
        for begin in range(0, len(sources), args.batch_size):
            src = sources[begin : begin + args.batch_size]
            src_labels = labels[src]
            with torch.no_grad():
                z = augmenter.sample(codes[src], src_labels, generator=gen)
                imgs = to_bgr_uint8(model.decode(z), model.data_preprocessor)
            for k, img in enumerate(imgs):
                idx = begin + k + 1
                stem = f'{PREFIX}{idx:06d}'
                mmcv.imwrite(img, osp.join(img_dir, f'{stem}_aligned.jpg'))
                c = int(src_labels[k])
                name = f'{stem}.jpg'
                lines.append(f'{name} {c + 1}\n')
                source = dataset.get_data_info(int(src[k]))['img_path']
                records.append(dict(image=name, label=c, source=source))
                if len(grid_rows[c]) < args.grid_per_class:
                    grid_rows[c].append((source, img))
            bar.update(len(src))
    elapsed = time.perf_counter() - start
    with open(osp.join(ann_dir, 'list_patition_label.txt'), 'w') as f:
        f.writelines(lines)

    # Two rows per class: the sources, and below each its augmentation.
    size = imgs.shape[1]
    rows = []
    for row in grid_rows.values():
        rows.append(
            [mmcv.imresize(mmcv.imread(src), (size, size)) for src, _ in row]
        )
        rows.append([img for _, img in row])
    grid_path = osp.join(args.out_dir, 'vaegan_samples.png')
    write_grid(grid_path, rows, size)

    throughput = len(sources) / elapsed
    summary = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        strength=args.strength,
        form=args.form,
        scale=args.scale,
        seed=args.seed,
        target_count=target,
        original_counts={
            RAFDB_CATEGORIES[c]: int(n) for c, n in enumerate(counts)
        },
        generated_counts={RAFDB_CATEGORIES[c]: n for c, n in plan.items()},
        seconds=round(elapsed, 3),
        images_per_second=round(throughput, 2),
        images=records,
    )
    with open(osp.join(args.out_dir, 'vaegan_generation.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    print(
        f'wrote {len(sources)} images '
        f'({", ".join(f"{RAFDB_CATEGORIES[c]}: {n}" for c, n in plan.items())})'
        f' to {args.out_dir} in {elapsed:.1f} s: {throughput:.1f} images/s '
        '(sample + decode + write)'
    )
    print(f'sample grid: {grid_path}')


if __name__ == '__main__':
    sys.exit(main())

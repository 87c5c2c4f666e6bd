# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Translate source-class faces and write them as RAF-DB training data."""

import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence

import mmcv
import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from tqdm import tqdm

from fer_mm.datasets.categories import RAFDB_CATEGORIES, canonical_name

#: Where the RAF-DB loader (``fer_mm.datasets.RAFDB``) looks, basic subset.
RAFDB_LIST_FILE = osp.join('basic', 'EmoLabel', 'list_patition_label.txt')
RAFDB_ALIGNED_DIR = osp.join('basic', 'Image', 'aligned')


def select_sources(
    num_sources: int, num: int, seed: Optional[int] = None
) -> List[int]:
    """Positions of the source images to translate.

    Args:
        num_sources (int): Source-class images available.
        num (int): Images to translate.
        seed (int, optional): None takes the first ``num`` (deterministic,
            dataset order); a seed draws ``num`` without replacement.

    Raises:
        ValueError: ``num`` is not in ``1..num_sources``.
    """
    if not 1 <= num <= num_sources:
        raise ValueError(
            f'--num must be in 1..{num_sources} (the source-class images '
            f'available), got {num}'
        )
    if seed is None:
        return list(range(num))
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(num_sources, num, replace=False))


def rafdb_label(class_name: str) -> int:
    """RAF-DB basic list-file label (1-based) of an expression name."""
    wanted = canonical_name(class_name)
    if wanted not in RAFDB_CATEGORIES:
        raise ValueError(
            f'target class {class_name!r} has no RAF-DB basic label; RAF-DB '
            f'classes are {list(RAFDB_CATEGORIES)}'
        )
    return RAFDB_CATEGORIES.index(wanted) + 1


def _to_uint8(batch: torch.Tensor) -> List[np.ndarray]:
    """(N, 3, H, W) BGR in [0, 255] -> list of H x W x 3 uint8 images."""
    arr = batch.detach().round().clamp(0, 255).to(torch.uint8).cpu().numpy()
    return [np.ascontiguousarray(a.transpose(1, 2, 0)) for a in arr]


def before_after_grid(
    sources: Sequence[np.ndarray],
    targets: Sequence[np.ndarray],
    cols: int = 8,
    pad: int = 2,
) -> np.ndarray:
    """Grid of (source above translation) tiles, ``cols`` pairs a row."""
    if len(sources) != len(targets) or not sources:
        raise ValueError('need as many translations as sources, at least 1')
    h, w = targets[0].shape[:2]
    tiles = []
    for src, tgt in zip(sources, targets):
        src = mmcv.imresize(src, (w, h)) if src.shape[:2] != (h, w) else src
        tiles.append(np.concatenate([src, tgt], axis=0))
    cols = min(cols, len(tiles))
    rows = -(-len(tiles) // cols)
    tile_h, tile_w = 2 * h, w
    grid = np.full(
        (rows * (tile_h + pad) + pad, cols * (tile_w + pad) + pad, 3),
        255,
        dtype=np.uint8,
    )
    for k, tile in enumerate(tiles):
        r, c = divmod(k, cols)
        y, x = pad + r * (tile_h + pad), pad + c * (tile_w + pad)
        grid[y : y + tile_h, x : x + tile_w] = tile
    return grid


@torch.no_grad()
def translate_to_rafdb(
    model: torch.nn.Module,
    dataset,
    positions: Sequence[int],
    out_dir: str,
    batch_size: int = 16,
    prefix: str = 'train_ecyclegan',
    grid_size: int = 16,
    progress: bool = True,
) -> Dict[str, float]:
    """Translate source-domain images and write a RAF-DB basic tree.

    Writes ``out_dir/basic/Image/aligned/{prefix}_{k:05d}_aligned.jpg``,
    the list file ``out_dir/basic/EmoLabel/list_patition_label.txt`` (every
    image labelled with the target class, RAF-DB's 1-based label), a
    ``sources.txt`` naming each image's source, and ``before_after.png``
    (the first ``grid_size`` sources above their translations). The tree is
    read by ``RAFDB(data_root=out_dir, split='train')``.

    Args:
        model (nn.Module): A trained translation model (mmagic
            ``BaseTranslationModel``, e.g. :class:`ECycleGAN`).
        dataset (UnpairedExpressionDataset): Pairs in ``test_mode``; item
            ``i`` holds source image ``i``.
        positions (Sequence[int]): Items to translate.
        out_dir (str): Root of the tree to write.
        batch_size (int): Images per forward pass. Defaults to 16.
        prefix (str): File-name prefix; must start with ``train``.
            Defaults to 'train_ecyclegan'.
        grid_size (int): Pairs in the grid PNG (0: none). Defaults to 16.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: ``num_images``, ``seconds`` (translation forward passes),
        ``images_per_s`` (same), ``total_seconds`` (with loading and
        writing).
    """
    if not prefix.startswith('train'):
        raise ValueError(
            f'prefix must start with "train" (RAF-DB takes the split from '
            f'the file name), got {prefix!r}'
        )
    if not dataset.test_mode:
        raise ValueError('the dataset must be in test_mode (fixed pairs)')
    src_key = f'img_{dataset.domain_a}'
    label = rafdb_label(dataset.target_class)
    img_dir = osp.join(out_dir, RAFDB_ALIGNED_DIR)
    list_file = osp.join(out_dir, RAFDB_LIST_FILE)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(osp.dirname(list_file), exist_ok=True)

    model.eval()
    pre = model.data_preprocessor
    lines, sources_txt = [], []
    grid_src, grid_tgt = [], []
    forward_s = 0.0
    start = time.perf_counter()
    bar = tqdm(
        total=len(positions),
        desc=f'{dataset.domain_a} -> {dataset.domain_b}',
        unit='img',
        disable=not progress,
    )
    for b in range(0, len(positions), batch_size):
        chunk = positions[b : b + batch_size]
        items = [dataset[int(i)] for i in chunk]
        infos = [dataset.get_data_info(int(i)) for i in chunk]
        t0 = time.perf_counter()
        data = pre(pseudo_collate(items), False)
        inputs, samples = data['inputs'], data['data_samples']
        fake = model.translation(
            inputs[src_key], target_domain=dataset.domain_b
        )
        forward_s += time.perf_counter() - t0
        fakes = _to_uint8(pre.destruct(fake, samples, src_key))
        if len(grid_src) < grid_size:
            reals = _to_uint8(pre.destruct(inputs[src_key], samples, src_key))
            need = grid_size - len(grid_src)
            grid_src += reals[:need]
            grid_tgt += fakes[:need]
        for k, (img, info) in enumerate(zip(fakes, infos), b + 1):
            name = f'{prefix}_{k:05d}.jpg'
            mmcv.imwrite(
                img, osp.join(img_dir, f'{prefix}_{k:05d}_aligned.jpg')
            )
            lines.append(f'{name} {label}\n')
            sources_txt.append(f'{name} {info[f"{src_key}_path"]}\n')
        bar.update(len(chunk))
    bar.close()
    with open(list_file, 'w', encoding='utf-8') as f:
        f.writelines(lines)
    with open(osp.join(out_dir, 'sources.txt'), 'w', encoding='utf-8') as f:
        f.writelines(sources_txt)
    if grid_size > 0:
        mmcv.imwrite(
            before_after_grid(grid_src, grid_tgt),
            osp.join(out_dir, 'before_after.png'),
        )
    total_s = time.perf_counter() - start
    return dict(
        num_images=len(positions),
        seconds=forward_s,
        images_per_s=len(positions) / max(forward_s, 1e-9),
        total_seconds=total_s,
    )

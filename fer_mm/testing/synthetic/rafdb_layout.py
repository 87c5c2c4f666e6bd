# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Write the built-in synthetic FER set in the RAF-DB basic on-disk layout."""

import json
import multiprocessing as mp
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from ...datasets.categories import (
    RAFDB_CATEGORIES,
    RAFDB_TEST_COUNTS,
    RAFDB_TRAIN_COUNTS,
)
from ...datasets.landmarks import write_landmarks
from .face_renderer import render_face

GENERATOR_VERSION = 2
_SPLIT_CODES = {'train': 0, 'test': 1}
META_FILE = 'fer_mm_synthetic.json'


def scaled_counts(
    counts: Sequence[int], scale: float, min_count: int = 2
) -> List[int]:
    """Class counts scaled by ``scale``, at least ``min_count`` per class."""
    if scale <= 0:
        raise ValueError(f'scale must be > 0, got {scale}')
    return [max(min_count, int(round(c * scale))) for c in counts]


def split_labels(split: str, scale: float, seed: int) -> np.ndarray:
    """The shuffled true labels of one split (deterministic per seed)."""
    counts = scaled_counts(
        RAFDB_TRAIN_COUNTS if split == 'train' else RAFDB_TEST_COUNTS, scale
    )
    labels = np.repeat(np.arange(len(counts)), counts)
    rng = np.random.default_rng([seed, _SPLIT_CODES[split], 1 << 20])
    return labels[rng.permutation(len(labels))]


def sample_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random generator of one sample: a function of (seed, split, idx)."""
    return np.random.default_rng([seed, _SPLIT_CODES[split], index])


def render_sample(
    seed: int,
    split: str,
    index: int,
    label: int,
    label_noise: float,
    num_classes: int = 7,
) -> Tuple[np.ndarray, np.ndarray, int, int]:
    """Render sample ``index`` of a split.

    Returns:
        tuple: image (BGR uint8), landmarks (68x2), the written label (after
        optional label noise) and the JPEG quality to save it with.
    """
    rng = sample_rng(seed, split, index)
    img, landmarks = render_face(int(label), rng)
    quality = int(rng.integers(40, 96))
    written = int(label)
    if label_noise > 0 and rng.random() < label_noise:
        written = int((label + rng.integers(1, num_classes)) % num_classes)
    return img, landmarks, written, quality


def _file_name(split: str, index: int) -> str:
    # RAF-DB numbers train images with 5 digits and test images with 4.
    return (
        f'train_{index + 1:05d}.jpg'
        if split == 'train'
        else f'test_{index + 1:04d}.jpg'
    )


def _write_one(args) -> Tuple[str, int, np.ndarray]:
    root, seed, split, index, label, label_noise = args
    img, landmarks, written, quality = render_sample(
        seed, split, index, label, label_noise
    )
    name = _file_name(split, index)
    out = osp.join(
        root, 'basic', 'Image', 'aligned', name.replace('.jpg', '_aligned.jpg')
    )
    if not cv2.imwrite(out, img, [cv2.IMWRITE_JPEG_QUALITY, quality]):
        raise OSError(f'could not write {out}')
    return name, written, landmarks


def generate_rafdb(
    out_dir: str,
    scale: float = 1.0,
    seed: int = 0,
    label_noise: float = 0.0,
    num_workers: Optional[int] = None,
    progress: bool = True,
) -> Dict:
    """Generate the synthetic set in the RAF-DB basic layout.

    The tree written under ``out_dir``::

        basic/
        ├── EmoLabel/list_patition_label.txt   # "train_00001.jpg 4", labels 1..7
        ├── Annotation/landmarks_68.txt        # "<image> x1 y1 ... x68 y68"
        └── Image/aligned/train_00001_aligned.jpg ... test_0001_aligned.jpg
        fer_mm_synthetic.json                  # generator settings and counts

    Class counts follow RAF-DB's long-tailed train / test counts times
    ``scale`` (at least 2 per class). A second call with the same settings
    finds the tree complete and returns without rewriting it.

    Args:
        out_dir (str): Root of the tree (the RAF-DB ``data_root``).
        scale (float): Size relative to the real RAF-DB (12,271 train /
            3,068 test). Defaults to 1.0.
        seed (int): Seed; the output is a pure function of the arguments.
            Defaults to 0.
        label_noise (float): Probability that a written label is replaced by
            another class. Defaults to 0.0.
        num_workers (int, optional): Processes used to render. Defaults to the
            number of CPUs.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: The content of ``fer_mm_synthetic.json``.
    """
    if not 0.0 <= label_noise < 1.0:
        raise ValueError(f'label_noise must be in [0, 1), got {label_noise}')
    settings = dict(
        layout='rafdb',
        version=GENERATOR_VERSION,
        scale=scale,
        seed=seed,
        label_noise=label_noise,
    )
    meta_path = osp.join(out_dir, META_FILE)
    if osp.isfile(meta_path):
        with open(meta_path, encoding='utf-8') as f:
            meta = json.load(f)
        if meta.get('settings') == settings and meta.get('complete'):
            return meta

    os.makedirs(osp.join(out_dir, 'basic', 'Image', 'aligned'), exist_ok=True)
    os.makedirs(osp.join(out_dir, 'basic', 'EmoLabel'), exist_ok=True)
    jobs = []
    for split in ('train', 'test'):
        labels = split_labels(split, scale, seed)
        jobs += [
            (out_dir, seed, split, i, int(y), label_noise)
            for i, y in enumerate(labels)
        ]
    num_workers = num_workers or os.cpu_count() or 1
    bar = tqdm(
        total=len(jobs),
        desc='synthetic RAF-DB',
        unit='img',
        disable=not progress,
    )
    results = []
    if num_workers > 1:
        with mp.get_context('fork').Pool(num_workers) as pool:
            for res in pool.imap(_write_one, jobs, chunksize=64):
                results.append(res)
                bar.update()
    else:
        for job in jobs:
            results.append(_write_one(job))
            bar.update()
    bar.close()

    list_file = osp.join(
        out_dir, 'basic', 'EmoLabel', 'list_patition_label.txt'
    )
    with open(list_file, 'w', encoding='utf-8') as f:
        for name, label, _ in results:
            f.write(f'{name} {label + 1}\n')
    os.makedirs(osp.join(out_dir, 'basic', 'Annotation'), exist_ok=True)
    write_landmarks(
        osp.join(out_dir, 'basic', 'Annotation', 'landmarks_68.txt'),
        [n.replace('.jpg', '_aligned.jpg') for n, _, _ in results],
        [lm for _, _, lm in results],
    )
    counts = {}
    for split in ('train', 'test'):
        hist = np.bincount(
            [y for n, y, _ in results if n.startswith(split)],
            minlength=len(RAFDB_CATEGORIES),
        )
        counts[split] = dict(zip(RAFDB_CATEGORIES, map(int, hist)))
    meta = dict(settings=settings, counts=counts, complete=True)
    with open(meta_path, 'w', encoding='utf-8') as f:
        json.dump(meta, f, indent=2)
    return meta

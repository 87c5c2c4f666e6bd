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
from .domain_shift import apply_domain_shift, shift_rng
from .face_renderer import OCCLUSION_RATE, render_face

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


#: Class-dependent ("pairwise") label noise flips a class to the one it is
#: most confused with in real data (RAF-DB order: Surprise <-> Fear,
#: Disgust <-> Anger, Sadness <-> Neutral, Happiness -> Neutral).
PAIR_FLIP = {0: 1, 1: 0, 2: 5, 5: 2, 4: 6, 6: 4, 3: 6}
NOISE_TYPES = ('symmetric', 'pairwise')


def long_tail_counts(
    counts: Sequence[int], scale: float, long_tail: float, min_count: int = 2
) -> List[int]:
    """Class counts with RAF-DB's proportions raised to ``long_tail``.

    The total stays ``scale * sum(counts)``; ``long_tail=1`` gives
    :func:`scaled_counts` (RAF-DB's proportions), 0 a balanced set, 2 a
    tail twice as long on a log scale (the max / min ratio squared).
    """
    if long_tail == 1:
        return scaled_counts(counts, scale, min_count)
    if long_tail < 0:
        raise ValueError(f'long_tail must be >= 0, got {long_tail}')
    if scale <= 0:
        raise ValueError(f'scale must be > 0, got {scale}')
    weights = np.asarray(counts, dtype=np.float64) ** long_tail
    total = scale * float(sum(counts))
    return [
        max(min_count, int(round(total * w / weights.sum()))) for w in weights
    ]


def split_labels(
    split: str, scale: float, seed: int, long_tail: float = 1.0
) -> np.ndarray:
    """The shuffled true labels of one split (deterministic per seed)."""
    counts = long_tail_counts(
        RAFDB_TRAIN_COUNTS if split == 'train' else RAFDB_TEST_COUNTS,
        scale,
        long_tail,
    )
    labels = np.repeat(np.arange(len(counts)), counts)
    rng = np.random.default_rng([seed, _SPLIT_CODES[split], 1 << 20])
    return labels[rng.permutation(len(labels))]


def sample_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The random generator of one sample: a function of (seed, split, idx)."""
    return np.random.default_rng([seed, _SPLIT_CODES[split], index])


def noisy_label(
    label: int,
    rng: np.random.Generator,
    rate: float,
    kind: str = 'symmetric',
    num_classes: int = 7,
) -> int:
    """The written label: with probability ``rate`` another class, uniformly
    (``'symmetric'``) or the confusable partner of :data:`PAIR_FLIP`
    (``'pairwise'``)."""
    if rate <= 0 or rng.random() >= rate:
        return int(label)
    if kind == 'pairwise':
        return PAIR_FLIP[int(label)]
    return int((label + rng.integers(1, num_classes)) % num_classes)


def render_sample(
    seed: int,
    split: str,
    index: int,
    label: int,
    label_noise: float,
    num_classes: int = 7,
    noise_type: str = 'symmetric',
    domain_shift: float = 0.0,
    **render_knobs,
) -> Tuple[np.ndarray, np.ndarray, int, int]:
    """Render sample ``index`` of a split.

    Args:
        domain_shift (float): Strength of
            :func:`~fer_mm.testing.synthetic.domain_shift.apply_domain_shift`
            (its noise from a stream of its own, so the face, label and JPEG
            quality are those of the unshifted sample). Defaults to 0.0.
        render_knobs: ``occlusion``, ``occlusion_size``, ``pose_strength``
            of :func:`~fer_mm.testing.synthetic.face_renderer.render_face`.

    Returns:
        tuple: image (BGR uint8), landmarks (68x2), the written label (after
        optional label noise) and the JPEG quality to save it with.
    """
    rng = sample_rng(seed, split, index)
    img, landmarks = render_face(int(label), rng, **render_knobs)
    quality = int(rng.integers(40, 96))
    written = noisy_label(label, rng, label_noise, noise_type, num_classes)
    if domain_shift:
        img = apply_domain_shift(
            img, domain_shift, shift_rng(seed, _SPLIT_CODES[split], index)
        )
    return img, landmarks, written, quality


def _file_name(split: str, index: int) -> str:
    # RAF-DB numbers train images with 5 digits and test images with 4.
    return (
        f'train_{index + 1:05d}.jpg'
        if split == 'train'
        else f'test_{index + 1:04d}.jpg'
    )


def _write_one(args) -> Tuple[str, int, np.ndarray]:
    root, seed, split, index, label, label_noise, noise_type, knobs = args
    img, landmarks, written, quality = render_sample(
        seed, split, index, label, label_noise, noise_type=noise_type, **knobs
    )
    name = _file_name(split, index)
    out = osp.join(
        root, 'basic', 'Image', 'aligned', name.replace('.jpg', '_aligned.jpg')
    )
    if not cv2.imwrite(out, img, [cv2.IMWRITE_JPEG_QUALITY, quality]):
        raise OSError(f'could not write {out}')
    return name, written, landmarks, int(label)


def generate_rafdb(
    out_dir: str,
    scale: float = 1.0,
    seed: int = 0,
    label_noise: float = 0.0,
    num_workers: Optional[int] = None,
    progress: bool = True,
    train_scale: Optional[float] = None,
    long_tail: float = 1.0,
    noise_type: str = 'symmetric',
    occlusion: float = OCCLUSION_RATE,
    occlusion_size: float = 1.0,
    pose_strength: float = 1.0,
    test_occlusion: Optional[float] = None,
    test_occlusion_size: Optional[float] = None,
    test_pose_strength: Optional[float] = None,
    test_domain_shift: float = 0.0,
) -> Dict:
    """Generate the synthetic set in the RAF-DB basic layout.

    The tree written under ``out_dir``::

        basic/
        ├── EmoLabel/list_patition_label.txt   # "train_00001.jpg 4", labels 1..7
        ├── EmoLabel/true_labels.txt           # the labels before noise
        ├── Annotation/landmarks_68.txt        # "<image> x1 y1 ... x68 y68"
        └── Image/aligned/train_00001_aligned.jpg ... test_0001_aligned.jpg
        fer_mm_synthetic.json                  # generator settings and counts

    Class counts follow RAF-DB's long-tailed train / test counts times
    ``scale`` (at least 2 per class). A second call with the same settings
    finds the tree complete and returns without rewriting it.

    The regime knobs (for the method studies) default to the built-in set:
    with their defaults the images and labels are the same as before the
    knobs existed, and ``fer_mm_synthetic.json`` lists only the knobs that
    differ from their defaults.

    Args:
        out_dir (str): Root of the tree (the RAF-DB ``data_root``).
        scale (float): Size relative to the real RAF-DB (12,271 train /
            3,068 test). Defaults to 1.0.
        seed (int): Seed; the output is a pure function of the arguments.
            Defaults to 0.
        label_noise (float): Probability that a written *training* label is
            replaced by another class; test labels stay true, and every
            true label is in ``EmoLabel/true_labels.txt``. Defaults to 0.0.
        num_workers (int, optional): Processes used to render. Defaults to the
            number of CPUs.
        progress (bool): Show a progress bar. Defaults to True.
        train_scale (float, optional): Size of the training split alone
            (little-data regimes). Defaults to None (``scale``).
        long_tail (float): Exponent of RAF-DB's class proportions (0:
            balanced, 1: RAF-DB's, 2: the max / min ratio squared), both
            splits. Defaults to 1.0.
        noise_type (str): ``'symmetric'`` (uniform over the other classes)
            or ``'pairwise'`` (class-dependent: :data:`PAIR_FLIP`).
            Defaults to ``'symmetric'``.
        occlusion (float): Probability of an occluder. Defaults to 0.12.
        occlusion_size (float): Scale of the occluders. Defaults to 1.0.
        pose_strength (float): Scale of the random pose ranges. Defaults to
            1.0.
        test_occlusion, test_occlusion_size, test_pose_strength (float,
            optional): The same for the test split alone (a shifted test
            domain). Defaults to None (as for training).
        test_domain_shift (float): Strength of the shifted rendering domain
            of the test split (:mod:`~fer_mm.testing.synthetic.domain_shift`:
            tone, contrast, colour cast, blur, sensor noise; the faces and
            labels stay those of the unshifted split). Defaults to 0.0.

    Returns:
        dict: The content of ``fer_mm_synthetic.json``.
    """
    if not 0.0 <= label_noise < 1.0:
        raise ValueError(f'label_noise must be in [0, 1), got {label_noise}')
    if noise_type not in NOISE_TYPES:
        raise ValueError(
            f'noise_type must be one of {NOISE_TYPES}, got {noise_type!r}'
        )
    knobs = dict(
        occlusion=occlusion,
        occlusion_size=occlusion_size,
        pose_strength=pose_strength,
    )
    test_knobs = dict(
        occlusion=occlusion if test_occlusion is None else test_occlusion,
        occlusion_size=occlusion_size
        if test_occlusion_size is None
        else test_occlusion_size,
        pose_strength=pose_strength
        if test_pose_strength is None
        else test_pose_strength,
    )
    if test_domain_shift < 0:
        raise ValueError(
            f'test_domain_shift must be >= 0, got {test_domain_shift}'
        )
    for name, value in (*knobs.items(), *test_knobs.items()):
        if value < 0 or (name == 'occlusion' and value > 1):
            raise ValueError(f'{name} must be in range, got {value}')
    settings = dict(
        layout='rafdb',
        version=GENERATOR_VERSION,
        scale=scale,
        seed=seed,
        label_noise=label_noise,
    )
    defaults = dict(
        train_scale=None,
        long_tail=1.0,
        noise_type='symmetric',
        occlusion=OCCLUSION_RATE,
        occlusion_size=1.0,
        pose_strength=1.0,
        test_occlusion=None,
        test_occlusion_size=None,
        test_pose_strength=None,
        test_domain_shift=0.0,
    )
    given = dict(
        train_scale=train_scale,
        long_tail=long_tail,
        noise_type=noise_type,
        test_occlusion=test_occlusion,
        test_occlusion_size=test_occlusion_size,
        test_pose_strength=test_pose_strength,
        test_domain_shift=test_domain_shift,
        **knobs,
    )
    settings.update({k: v for k, v in given.items() if v != defaults[k]})
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
        size = scale if split == 'test' or train_scale is None else train_scale
        labels = split_labels(split, size, seed, long_tail)
        noise = label_noise if split == 'train' else 0.0
        split_knobs = (
            knobs
            if split == 'train'
            else dict(test_knobs, domain_shift=test_domain_shift)
        )
        jobs += [
            (out_dir, seed, split, i, int(y), noise, noise_type, split_knobs)
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

    label_dir = osp.join(out_dir, 'basic', 'EmoLabel')
    with open(
        osp.join(label_dir, 'list_patition_label.txt'), 'w', encoding='utf-8'
    ) as f:
        for name, label, _, _ in results:
            f.write(f'{name} {label + 1}\n')
    with open(
        osp.join(label_dir, 'true_labels.txt'), 'w', encoding='utf-8'
    ) as f:
        for name, _, _, true in results:
            f.write(f'{name} {true + 1}\n')
    os.makedirs(osp.join(out_dir, 'basic', 'Annotation'), exist_ok=True)
    write_landmarks(
        osp.join(out_dir, 'basic', 'Annotation', 'landmarks_68.txt'),
        [n.replace('.jpg', '_aligned.jpg') for n, _, _, _ in results],
        [lm for _, _, lm, _ in results],
    )
    counts = {}
    for split in ('train', 'test'):
        hist = np.bincount(
            [y for n, y, _, _ in results if n.startswith(split)],
            minlength=len(RAFDB_CATEGORIES),
        )
        counts[split] = dict(zip(RAFDB_CATEGORIES, map(int, hist)))
    flipped = sum(y != t for n, y, _, t in results if n.startswith('train'))
    meta = dict(
        settings=settings,
        counts=counts,
        noisy_train_labels=int(flipped),
        complete=True,
    )
    with open(meta_path, 'w', encoding='utf-8') as f:
        json.dump(meta, f, indent=2)
    return meta

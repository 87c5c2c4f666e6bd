# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Aff-Wild2 (ABAW expression track) layout of the synthetic set: videos."""

import json
import multiprocessing as mp
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from ...datasets.categories import AFFWILD2_CATEGORIES, RAFDB_CATEGORIES
from .face_renderer import (
    PROTOTYPES,
    expression_vector,
    random_background,
    random_identity,
    render_frame,
)

#: Rough class proportions of the Aff-Wild2 expression training set
#: (Neutral, Anger, Disgust, Fear, Happiness, Sadness, Surprise, Other).
AFFWILD2_PROPORTIONS = np.array([177, 16, 10, 9, 95, 79, 31, 165], dtype=float)
AFFWILD2_HEADER = ','.join(AFFWILD2_CATEGORIES)
FRAME_SIZE = 112  # Aff-Wild2 cropped_aligned frames are 112x112


def video_names(num_videos: int, two_person: bool = True) -> List[str]:
    """Video names in the Aff-Wild2 style; the last two share a clip."""
    names = [f'{i + 1}-30-1280x720' for i in range(num_videos)]
    if two_person and num_videos >= 2:
        base = f'{num_videos - 1}-30-1280x720'
        names[-2:] = [f'{base}_left', f'{base}_right']
    return names


def _segments(
    length: int, rng: np.random.Generator, invalid_rate: float
) -> np.ndarray:
    """Per-frame labels: expression segments and a few -1 runs."""
    labels = np.empty(length, dtype=np.int64)
    probs = AFFWILD2_PROPORTIONS / AFFWILD2_PROPORTIONS.sum()
    t = 0
    while t < length:
        seg = int(rng.integers(20, 80))
        labels[t : t + seg] = rng.choice(len(probs), p=probs)
        t += seg
    n_invalid = int(round(invalid_rate * length))
    while n_invalid > 0:
        run = int(min(n_invalid, rng.integers(3, 12)))
        start = int(rng.integers(0, max(1, length - run)))
        labels[start : start + run] = -1
        n_invalid -= run
    return labels


def _frame_expression(
    label: int, phase: float, other: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Expression vector of one frame; ``phase`` in [0, 1] of a segment."""
    envelope = min(1.0, 4 * phase, 4 * (1 - phase)) * 0.85 + 0.15
    if label < 0:
        label = AFFWILD2_CATEGORIES.index('Neutral')
    name = AFFWILD2_CATEGORIES[label]
    if name == 'Other':
        neutral = np.asarray(PROTOTYPES['Neutral'])
        return (
            neutral
            + envelope * (other - neutral)
            + rng.normal(0, 0.03, other.shape)
        )
    return expression_vector(RAFDB_CATEGORIES.index(name), envelope, rng)


def _render_video(args) -> Tuple[str, List[int], np.ndarray, List[int]]:
    (out_dir, root, name, seed, index, length, invalid_rate, missing_rate) = (
        args
    )
    rng = np.random.default_rng([seed, 2, index])
    idt = random_identity(rng)
    background = random_background(rng)
    labels = _segments(length, rng, invalid_rate)
    # 'Other' is a blend of two prototypes, fixed per video.
    a, b = rng.choice(len(RAFDB_CATEGORIES), 2, replace=False)
    other = 0.5 * (
        np.asarray(PROTOTYPES[RAFDB_CATEGORIES[a]])
        + np.asarray(PROTOTYPES[RAFDB_CATEGORIES[b]])
    )
    light = (
        rng.uniform(0, 2 * np.pi),
        rng.uniform(0, 0.5),
        rng.uniform(0.8, 1.1),
    )
    pose0 = np.array([rng.uniform(-15, 15), rng.uniform(0.9, 1.1), 0, 0])
    drift = np.cumsum(rng.normal(0, [0.4, 0.003, 0.2, 0.2], (length, 4)), 0)
    missing = rng.random(length) < missing_rate
    frame_dir = osp.join(out_dir, root, name)
    os.makedirs(frame_dir, exist_ok=True)
    # Segment phase: position of each frame inside its run of equal labels.
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], length]
    written = []
    for s, e in zip(starts, ends):
        for t in range(s, e):
            if missing[t]:
                continue  # no face found: the frame is absent on disk
            expr = _frame_expression(
                int(labels[t]), (t - s) / max(1, e - s), other, rng
            )
            pose = tuple(
                np.clip(
                    pose0 + drift[t], [-25, 0.85, -6, -6], [25, 1.15, 6, 6]
                )
            )
            img, _ = render_frame(
                idt,
                expr,
                background,
                rng,
                pose=pose,
                light=light,
                occluder=False,
            )
            img = cv2.resize(
                img, (FRAME_SIZE, FRAME_SIZE), interpolation=cv2.INTER_LINEAR
            )
            path = osp.join(frame_dir, f'{t + 1:05d}.jpg')
            cv2.imwrite(path, img, [cv2.IMWRITE_JPEG_QUALITY, 90])
            written.append(t + 1)
    return name, labels.tolist(), missing, written


def generate_affwild2(
    out_dir: str,
    num_videos: int = 12,
    frames_per_video: Tuple[int, int] = (120, 240),
    val_videos: int = 3,
    seed: int = 0,
    invalid_rate: float = 0.03,
    missing_rate: float = 0.02,
    frame_roots: Sequence[str] = (
        'cropped_aligned',
        'cropped_aligned_new_50_vids',
    ),
    challenge: str = 'EXPR_Classification_Challenge',
    num_workers: Optional[int] = None,
    progress: bool = True,
) -> Dict:
    """Write synthetic videos in the Aff-Wild2 expression-track layout.

    Each video has one identity and background; its expression changes over
    time in segments (intensity rising and falling within a segment) with
    Aff-Wild2's class proportions, the head drifts slowly, a few runs of
    frames are annotated ``-1`` and a few frames are missing on disk (no face
    found). The last two videos are a ``_left`` / ``_right`` pair, and the
    last quarter of the videos goes to the second frame root::

        annotations/<challenge>/Train_Set/<video>.txt      # header + 1 label/line
        annotations/<challenge>/Validation_Set/<video>.txt
        cropped_aligned/<video>/00001.jpg ...               # 112x112 frames
        cropped_aligned_new_50_vids/<video>/00001.jpg ...
        fer_mm_synthetic.json

    Args:
        out_dir (str): Root of the tree.
        num_videos (int): Number of videos. Defaults to 12.
        frames_per_video (tuple[int, int]): Range of video lengths.
            Defaults to (120, 240).
        val_videos (int): Videos of the validation set. Defaults to 3.
        seed (int): Seed. Defaults to 0.
        invalid_rate (float): Fraction of frames annotated -1.
            Defaults to 0.03.
        missing_rate (float): Fraction of frames absent on disk.
            Defaults to 0.02.
        frame_roots (Sequence[str]): Frame folders (one or two).
        challenge (str): Annotation folder name.
            Defaults to 'EXPR_Classification_Challenge'.
        num_workers (int, optional): Processes. Defaults to the CPU count.
        progress (bool): Show a progress bar. Defaults to True.

    Returns:
        dict: Settings and per-video statistics (also written to
        ``fer_mm_synthetic.json``).
    """
    if not 0 < val_videos < num_videos:
        raise ValueError(
            f'val_videos must be in 1..{num_videos - 1}, got ' f'{val_videos}'
        )
    settings = dict(
        layout='affwild2',
        num_videos=num_videos,
        frames_per_video=list(frames_per_video),
        val_videos=val_videos,
        seed=seed,
        invalid_rate=invalid_rate,
        missing_rate=missing_rate,
        frame_roots=list(frame_roots),
        challenge=challenge,
    )
    meta_path = osp.join(out_dir, 'fer_mm_synthetic.json')
    if osp.isfile(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get('settings') == settings:
            return meta
    rng = np.random.default_rng([seed, 3])
    names = video_names(num_videos)
    lengths = rng.integers(
        frames_per_video[0], frames_per_video[1] + 1, num_videos
    )
    second = (
        set(range(num_videos - num_videos // 4, num_videos))
        if len(frame_roots) > 1
        else set()
    )
    jobs = [
        (
            out_dir,
            frame_roots[1] if i in second else frame_roots[0],
            names[i],
            seed,
            i,
            int(lengths[i]),
            invalid_rate,
            missing_rate,
        )
        for i in range(num_videos)
    ]
    num_workers = num_workers or os.cpu_count() or 1
    results = []
    bar = tqdm(
        total=num_videos,
        desc='synthetic Aff-Wild2',
        unit='video',
        disable=not progress,
    )
    if num_workers > 1:
        with mp.get_context('fork').Pool(num_workers) as pool:
            for res in pool.imap(_render_video, jobs):
                results.append(res)
                bar.update()
    else:
        for job in jobs:
            results.append(_render_video(job))
            bar.update()
    bar.close()

    # Validation videos: spread over the list, never splitting a pair.
    val = set(names[1 : 1 + val_videos])
    videos = {}
    for (name, labels, missing, written), job in zip(results, jobs):
        split = 'Validation_Set' if name in val else 'Train_Set'
        ann_dir = osp.join(out_dir, 'annotations', challenge, split)
        os.makedirs(ann_dir, exist_ok=True)
        with open(osp.join(ann_dir, f'{name}.txt'), 'w') as f:
            f.write(AFFWILD2_HEADER + '\n')
            f.writelines(f'{y}\n' for y in labels)
        labels = np.asarray(labels)
        valid = (labels >= 0) & ~np.asarray(missing)
        videos[name] = dict(
            split=split,
            root=job[1],
            frames=len(labels),
            invalid=int((labels < 0).sum()),
            missing=int(np.asarray(missing).sum()),
            usable=int(valid.sum()),
            counts=np.bincount(labels[valid], minlength=8).tolist(),
        )
    meta = dict(settings=settings, videos=videos)
    with open(meta_path, 'w') as f:
        json.dump(meta, f, indent=1)
    return meta

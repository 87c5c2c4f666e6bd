# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Video-aware epochs for frame-level expression datasets."""

from typing import Optional, Sized, Tuple

import numpy as np
from mmpretrain.registry import DATA_SAMPLERS

from .base import (
    _check_positive_int,
    _EpochShardSampler,
    _group,
    _gt_labels,
    _video_ids,
)


@DATA_SAMPLERS.register_module()
class VideoRefinementSampler(_EpochShardSampler):
    """ARBEx's per-epoch data refinement for video frame datasets.

    Every epoch: draw at most ``frames_per_video`` frames from each video at
    random (without replacement), pool them, then draw ``samples_per_class``
    frames of every expression class present in the pool (without
    replacement if the class has that many, otherwise with replacement when
    ``replace_if_short``, else all of the class's pooled frames), and shuffle.
    The epoch length is the sum of the per-class counts, i.e. ``M x C`` when
    every class is in the pool and ``replace_if_short=True``; otherwise it
    can change from epoch to epoch and ``len(sampler)`` reports the current
    epoch's (call :meth:`set_epoch` first).

    Labels come from ``dataset.get_gt_labels()``; video ids from
    ``dataset.get_video_ids()`` if the dataset has it, else from
    ``dataset.get_data_info(i)['video_id']`` (read once, at construction).
    Seeding, sharding and ``round_up`` are as in :class:`ClassBalancedSampler`.

    Paper: `ARBEx: Attentive Feature Extraction with Reliability Balancing for
    Robust Facial Expression Learning <https://arxiv.org/abs/2305.01486>`_
    (N = 512 frames per video, M = 500 per class).

    Args:
        dataset (Sized): The dataset; must provide ``get_gt_labels()`` and
            video ids (see above).
        frames_per_video (int): The most frames drawn from one video per
            epoch (N). Defaults to 512.
        samples_per_class (int): Frames drawn per class from the pool (M).
            Defaults to 500.
        seed (int, optional): Random seed, identical on every rank. If None,
            a seed is drawn on rank 0 and broadcast. Defaults to None.
        replace_if_short (bool): Draw ``samples_per_class`` with replacement
            for a class with fewer pooled frames; if False, take all of them.
            Defaults to True.
        round_up (bool): Pad the epoch to a multiple of the world size by
            repeating its beginning. Defaults to True.

    Examples:
        >>> train_dataloader = dict(
        ...     sampler=dict(type='VideoRefinementSampler',
        ...                  frames_per_video=512, samples_per_class=500),
        ...     ...)
    """

    def __init__(
        self,
        dataset: Sized,
        frames_per_video: int = 512,
        samples_per_class: int = 500,
        seed: Optional[int] = None,
        replace_if_short: bool = True,
        round_up: bool = True,
    ) -> None:
        owner = type(self).__name__
        self.frames_per_video = _check_positive_int(
            owner, 'frames_per_video', frames_per_video
        )
        self.samples_per_class = _check_positive_int(
            owner, 'samples_per_class', samples_per_class
        )
        self.replace_if_short = bool(replace_if_short)
        labels = _gt_labels(dataset, owner)
        videos = _video_ids(dataset, owner)
        super().__init__(dataset, seed=seed, round_up=round_up)
        self._labels = labels
        _, video_inv = np.unique(videos, return_inverse=True)
        self.num_videos = int(video_inv.max()) + 1
        # The smallest dtype lets numpy's stable argsort use radix sort.
        dtype = np.uint16 if self.num_videos <= 1 << 16 else np.int64
        self._video_inv = video_inv.reshape(-1).astype(dtype)
        counts = np.bincount(self._video_inv, minlength=self.num_videos)
        self._video_starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        self._all_short = bool(counts.max() <= self.frames_per_video)
        self._cache: Optional[Tuple[int, np.ndarray]] = None

    def _draw_pool(self, rng: np.random.Generator) -> np.ndarray:
        n = len(self._labels)
        if self._all_short:
            return np.arange(n)
        # Random order, then grouped by video (stable): each video's frames
        # are contiguous and in random order; keep the first N of each.
        perm = rng.permutation(n)
        grouped = perm[np.argsort(self._video_inv[perm], kind='stable')]
        rank_in_video = (
            np.arange(n) - self._video_starts[self._video_inv[grouped]]
        )
        return grouped[rank_in_video < self.frames_per_video]

    def _refine(self, epoch: int) -> np.ndarray:
        """The pool of ``epoch``: at most N random frames of every video.

        Args:
            epoch (int): Epoch number.

        Returns:
            np.ndarray: Dataset indices of the pooled frames (the pool the
            epoch's per-class draw of :meth:`__iter__` is taken from).
        """
        return self._draw_pool(self._rng(epoch))

    def _epoch_indices(self, epoch: int) -> np.ndarray:
        if self._cache is not None and self._cache[0] == epoch:
            return self._cache[1]
        rng = self._rng(epoch)
        pool = self._draw_pool(rng)
        pool = pool[rng.permutation(len(pool))]
        order, starts, counts = _group(self._labels[pool])
        grouped = pool[order]
        m = self.samples_per_class
        parts = []
        for start, count in zip(starts.tolist(), counts.tolist()):
            frames = grouped[start : start + count]  # in random order
            if count >= m:
                parts.append(frames[:m])
            elif self.replace_if_short:
                parts.append(frames[rng.integers(count, size=m)])
            else:
                parts.append(frames)
        indices = np.concatenate(parts)
        indices = indices[rng.permutation(len(indices))]
        self._cache = (epoch, indices)
        return indices

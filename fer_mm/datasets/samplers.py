# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Epoch samplers for class-imbalanced and video expression datasets.

Both samplers follow the contract of :class:`mmengine.dataset.DefaultSampler`:
the whole epoch is drawn from a generator seeded by ``(seed, epoch)``, so
every rank computes the same epoch and then keeps its own shard
(``indices[rank::world_size]``); :meth:`set_epoch` (called by mmengine's
``DistSamplerSeedHook``) selects the epoch, and the same epoch always yields
the same indices, which makes resumed runs reproduce the original order.
"""

import math
from typing import Iterator, Optional, Sized, Tuple

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from mmpretrain.registry import DATA_SAMPLERS
from torch.utils.data import Sampler

_UINT64 = (1 << 64) - 1


def _check_positive_int(owner: str, name: str, value) -> int:
    """Return ``value`` as an int, or raise if it is not a positive int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(
            f'{owner}: {name} must be a positive integer, got {value!r}'
        )
    if value <= 0:
        raise ValueError(f'{owner}: {name} must be > 0, got {value}')
    return int(value)


def _gt_labels(dataset: Sized, owner: str) -> np.ndarray:
    """Read the single-label targets of ``dataset`` as a 1-D int array."""
    name = type(dataset).__name__
    if len(dataset) == 0:
        raise ValueError(f'{owner}: dataset {name} is empty')
    if not hasattr(dataset, 'get_gt_labels'):
        raise ValueError(
            f'{owner}: dataset {name} has no labels (it has no '
            'get_gt_labels() method)'
        )
    try:
        labels = dataset.get_gt_labels()
    except KeyError as err:
        raise ValueError(
            f'{owner}: dataset {name} has no labels (get_gt_labels() failed '
            f'on a missing key {err})'
        ) from err
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(dataset):
        raise ValueError(
            f'{owner}: dataset {name} must give one integer label per '
            f'sample; get_gt_labels() returned shape {labels.shape} for '
            f'{len(dataset)} samples (multi-label and soft labels are not '
            'supported)'
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f'{owner}: dataset {name} must give integer labels; '
            f'get_gt_labels() returned dtype {labels.dtype}'
        )
    num_negative = int(np.count_nonzero(labels < 0))
    if num_negative:
        raise ValueError(
            f'{owner}: dataset {name} has {num_negative} samples with a '
            'negative label (e.g. -1 = not annotated); drop them in the '
            'dataset before sampling'
        )
    return labels.astype(np.int64, copy=False)


def _video_ids(dataset: Sized, owner: str) -> np.ndarray:
    """Read one video id per sample (``get_video_ids()`` or data infos)."""
    name = type(dataset).__name__
    if hasattr(dataset, 'get_video_ids'):
        ids = np.asarray(dataset.get_video_ids())
    elif hasattr(dataset, 'get_data_info'):
        try:
            ids = np.asarray(
                [
                    dataset.get_data_info(i)['video_id']
                    for i in range(len(dataset))
                ]
            )
        except KeyError as err:
            raise ValueError(
                f'{owner}: dataset {name} has no video ids: it has no '
                "get_video_ids() method and its data infos lack 'video_id'"
            ) from err
    else:
        raise ValueError(
            f'{owner}: dataset {name} has no video ids: it has neither '
            "get_video_ids() nor get_data_info(i)['video_id']"
        )
    if ids.ndim != 1 or len(ids) != len(dataset):
        raise ValueError(
            f'{owner}: dataset {name} must give one video id per sample; '
            f'got shape {ids.shape} for {len(dataset)} samples'
        )
    return ids


def _group(keys: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group positions by key.

    Returns:
        tuple: ``order`` (positions sorted by key, stable), ``starts`` and
        ``counts`` (the slice of ``order`` holding each distinct key, in
        sorted key order).
    """
    order = np.argsort(keys, kind='stable')
    _, starts, counts = np.unique(
        keys[order], return_index=True, return_counts=True
    )
    return order, starts, counts


class _EpochShardSampler(Sampler):
    """Shared seeding, sharding and epoch logic of fer_mm's samplers.

    A subclass implements :meth:`_epoch_indices`, the full (all-rank) index
    list of one epoch, computed from :meth:`_rng` only.

    Args:
        dataset (Sized): The dataset.
        seed (int, optional): Random seed, identical on every rank. If None,
            a seed is drawn on rank 0 and broadcast. Defaults to None.
        round_up (bool): Pad the epoch (by repeating its beginning) to a
            multiple of the world size so every rank gets the same number of
            indices; otherwise each rank keeps ``ceil((total - rank) /
            world_size)`` indices. Defaults to True.
    """

    def __init__(
        self, dataset: Sized, seed: Optional[int] = None, round_up: bool = True
    ) -> None:
        rank, world_size = get_dist_info()
        self.rank = rank
        self.world_size = world_size
        self.dataset = dataset
        if seed is None:
            seed = sync_random_seed()
        self.seed = int(seed)
        self.epoch = 0
        self.round_up = round_up

    def _rng(self, epoch: int) -> np.random.Generator:
        """The generator of ``epoch``: the same on every rank and run."""
        return np.random.default_rng([self.seed & _UINT64, epoch & _UINT64])

    def _epoch_indices(self, epoch: int) -> np.ndarray:
        raise NotImplementedError

    def _epoch_size(self, epoch: int) -> int:
        """Length of the full (all-rank) index list of ``epoch``."""
        return len(self._epoch_indices(epoch))

    def _shard(self, indices: np.ndarray) -> np.ndarray:
        """Keep this rank's part of the full index list of one epoch."""
        total = len(indices)
        if self.round_up:
            total = math.ceil(total / self.world_size) * self.world_size
            indices = np.resize(indices, total)
        return indices[self.rank : total : self.world_size]

    def __iter__(self) -> Iterator[int]:
        """Iterate this rank's indices of the current epoch."""
        return iter(self._shard(self._epoch_indices(self.epoch)).tolist())

    def __len__(self) -> int:
        """The number of indices this rank yields in the current epoch."""
        total = self._epoch_size(self.epoch)
        if self.round_up:
            return math.ceil(total / self.world_size)
        return max(0, math.ceil((total - self.rank) / self.world_size))

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch to draw.

        The same epoch always gives the same indices (on every rank and
        after a resume); mmengine's ``DistSamplerSeedHook`` calls this at the
        start of every training epoch.

        Args:
            epoch (int): Epoch number.
        """
        self.epoch = epoch


@DATA_SAMPLERS.register_module()
class ClassBalancedSampler(_EpochShardSampler):
    """Draw a class-balanced epoch with replacement.

    Every draw picks a class uniformly among the classes that have samples,
    then a sample of that class uniformly; equivalently every sample has
    weight ``1 / n_c`` where ``n_c`` is the size of its class. Classes with
    no samples are skipped. Labels come from ``dataset.get_gt_labels()``
    (single-label, non-negative integers).

    The epoch is drawn from a generator seeded by ``(seed, epoch)``: all
    ranks compute the same epoch and each keeps ``indices[rank::world_size]``
    (see ``round_up``), as :class:`mmengine.dataset.DefaultSampler` does.

    Args:
        dataset (Sized): The dataset; must provide ``get_gt_labels()``.
        num_samples (int, optional): Number of indices drawn per epoch over
            all ranks. Defaults to None (``len(dataset)``).
        seed (int, optional): Random seed, identical on every rank. If None,
            a seed is drawn on rank 0 and broadcast. Defaults to None.
        round_up (bool): Pad the epoch to a multiple of the world size by
            repeating its beginning, so all ranks yield the same number of
            indices; if False, rank ``r`` yields ``ceil((num_samples - r) /
            world_size)`` indices. Defaults to True.

    Examples:
        >>> train_dataloader = dict(
        ...     sampler=dict(type='ClassBalancedSampler', num_samples=20000),
        ...     ...)
    """

    def __init__(
        self,
        dataset: Sized,
        num_samples: Optional[int] = None,
        seed: Optional[int] = None,
        round_up: bool = True,
    ) -> None:
        owner = type(self).__name__
        labels = _gt_labels(dataset, owner)
        if num_samples is None:
            num_samples = len(labels)
        self.num_samples = _check_positive_int(
            owner, 'num_samples', num_samples
        )
        super().__init__(dataset, seed=seed, round_up=round_up)
        self._order, self._starts, self._counts = _group(labels)

    def _epoch_indices(self, epoch: int) -> np.ndarray:
        rng = self._rng(epoch)
        cls = rng.integers(len(self._counts), size=self.num_samples)
        offset = rng.integers(0, self._counts[cls])
        return self._order[self._starts[cls] + offset]

    def _epoch_size(self, epoch: int) -> int:
        return self.num_samples


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

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

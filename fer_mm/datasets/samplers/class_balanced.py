# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Class-balanced epochs for imbalanced expression datasets."""

from typing import Optional, Sized

import numpy as np
from mmpretrain.registry import DATA_SAMPLERS

from .base import _check_positive_int, _EpochShardSampler, _group, _gt_labels


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

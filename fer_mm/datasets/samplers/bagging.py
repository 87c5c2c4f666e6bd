# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from typing import Optional, Sized

import numpy as np
from mmpretrain.registry import DATA_SAMPLERS

from .base import _UINT64, _EpochShardSampler


def bagging_subset(
    num_items: int, fraction: float, subset_seed: int, replace: bool = False
) -> np.ndarray:
    """The subsample of one bagging member (sorted dataset indices).

    ``floor(fraction * num_items + 0.5)`` indices (at least one; halves
    round up), drawn without replacement unless ``replace``, from a
    generator seeded by ``subset_seed`` alone: the same on every rank, in
    every epoch and in every run.

    Args:
        num_items (int): Dataset size.
        fraction (float): Subsample size relative to the dataset, in (0, 1].
        subset_seed (int): Seed of the draw (one per bag member).
        replace (bool): Draw with replacement (a bootstrap sample; an index
            may then appear several times). Defaults to False.

    Returns:
        np.ndarray: The indices, sorted.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f'fraction must be in (0, 1], got {fraction}')
    if num_items < 1:
        raise ValueError('cannot subsample an empty dataset')
    size = max(1, int(np.floor(fraction * num_items + 0.5)))
    rng = np.random.default_rng([int(subset_seed) & _UINT64, 0xBA66])
    return np.sort(rng.choice(num_items, size=size, replace=replace))


@DATA_SAMPLERS.register_module()
class BaggingSampler(_EpochShardSampler):
    """Train one bagging member on a fixed random subsample of the dataset.

    The subsample (:func:`bagging_subset`, default 20 %, as in the LSD
    multi-task ensemble) is drawn once from ``subset_seed``; a bag of K
    members uses K different ``subset_seed`` values. Every epoch shuffles the
    subsample with a generator seeded by ``(seed, epoch)`` and each rank keeps
    its shard ``indices[rank::world_size]``, as :class:`ClassBalancedSampler`
    does, so all ranks see the same subset, shards are disjoint and a resumed
    run reproduces the order.

    Args:
        dataset (Sized): The dataset.
        fraction (float): Subsample size relative to the dataset.
            Defaults to 0.2.
        subset_seed (int): Seed of the subsample. Defaults to 0.
        replace (bool): Bootstrap (with replacement) instead of a plain
            subsample. Defaults to False.
        shuffle (bool): Shuffle the subsample every epoch. Defaults to True.
        seed (int, optional): Seed of the per-epoch shuffle; None draws one
            on rank 0 and broadcasts it. Defaults to None.
        round_up (bool): Pad the epoch to a multiple of the world size.
            Defaults to True.

    Examples:
        >>> train_dataloader = dict(
        ...     sampler=dict(type='BaggingSampler', fraction=0.2,
        ...                  subset_seed=3),
        ...     ...)
    """

    def __init__(
        self,
        dataset: Sized,
        fraction: float = 0.2,
        subset_seed: int = 0,
        replace: bool = False,
        shuffle: bool = True,
        seed: Optional[int] = None,
        round_up: bool = True,
    ) -> None:
        if isinstance(subset_seed, bool) or not isinstance(
            subset_seed, (int, np.integer)
        ):
            raise ValueError(
                'BaggingSampler: subset_seed must be an int (the same on '
                f'every rank), got {subset_seed!r}'
            )
        try:
            self.subset = bagging_subset(
                len(dataset), fraction, subset_seed, replace
            )
        except ValueError as err:
            raise ValueError(f'BaggingSampler: {err}') from None
        super().__init__(dataset, seed=seed, round_up=round_up)
        self.fraction = fraction
        self.subset_seed = int(subset_seed)
        self.replace = replace
        self.shuffle = shuffle

    def _epoch_indices(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return self.subset
        return self.subset[self._rng(epoch).permutation(len(self.subset))]

    def _epoch_size(self, epoch: int) -> int:
        return len(self.subset)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Per-batch seeding of data augmentation, for exact resume.

A data loader's random augmentations draw from the global generators of the
process that loads the batch. With ``persistent_workers=True`` a worker's
generators are seeded once, when the workers start, and then run on from
epoch to epoch; a resumed run starts new workers, so from the resumed epoch
on it draws other augmentations than the uninterrupted run did. In the main
process (``num_workers=0``) loading and the model share the generators, so
skipping batches changes the model's random numbers too.

:func:`install_batch_seeding` makes every batch's augmentations a function of
``(seed, epoch, the batch's sample indices)`` only: before a batch is loaded,
Python's, NumPy's and torch's global generators are seeded from a hash of
those values. In a worker process that is all; in the main process the
generators' states are saved before and restored after, so the model's draws
do not depend on data loading. The result does not depend on the number of
workers, on which worker loads a batch, on persistence, or on where a run was
resumed.

It uses torch's batched-fetch protocol: the data loader calls
``dataset.__getitems__(indices)`` when the dataset has one; the attribute is
set on the dataset object, before the workers start (they get a copy).
"""

import hashlib
import random
from typing import Any, List, Sequence

import numpy as np
import torch
from torch.utils.data import get_worker_info


def batch_seed(seed: int, epoch: int, indices: Sequence[int]) -> int:
    """A 63-bit seed from the run's seed, the epoch and the batch's indices.

    Args:
        seed (int): The run's seed.
        epoch (int): The epoch the batch belongs to (counted from 0).
        indices (Sequence[int]): The dataset indices of the batch, in order.

    Returns:
        int: A seed in ``[0, 2**63)``.
    """
    values = np.asarray([seed, epoch, *indices], dtype=np.int64)
    digest = hashlib.blake2b(values.tobytes(), digest_size=8).digest()
    return int.from_bytes(digest, 'little') >> 1


def seed_global_generators(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators with ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class SeededBatchFetcher:
    """``dataset.__getitems__``: load a batch with per-batch seeding.

    Args:
        dataset: The dataset whose items are loaded (``dataset[i]``).
        seed (int): The run's seed.

    Attributes:
        epoch (torch.Tensor): The current epoch, in shared memory so that
            persistent workers see the value the main process sets.
    """

    def __init__(self, dataset: Any, seed: int):
        self.dataset = dataset
        self.seed = int(seed)
        self.epoch = torch.zeros(1, dtype=torch.int64).share_memory_()

    def set_epoch(self, epoch: int) -> None:
        self.epoch[0] = int(epoch)

    def __call__(self, indices: Sequence[int]) -> List[Any]:
        seed = batch_seed(self.seed, int(self.epoch[0]), indices)
        if get_worker_info() is not None:
            seed_global_generators(seed)
            return [self.dataset[i] for i in indices]
        states = (
            random.getstate(),
            np.random.get_state(),
            torch.get_rng_state(),
        )
        try:
            seed_global_generators(seed)
            return [self.dataset[i] for i in indices]
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.set_rng_state(states[2])


def install_batch_seeding(dataloader: Any, seed: int) -> SeededBatchFetcher:
    """Give ``dataloader.dataset`` a :class:`SeededBatchFetcher`.

    Call it before the loader's workers start (before the first epoch is
    iterated); calling it again returns the fetcher already installed.
    The loader's generator (used only for torch's per-iterator base seed,
    which the seeding makes irrelevant) is made private, so that iterating
    the loader draws nothing from torch's global generator: a resumed run
    starts its iterators at other moments than the uninterrupted run did.

    Args:
        dataloader (torch.utils.data.DataLoader): The training data loader.
        seed (int): The run's seed.

    Returns:
        SeededBatchFetcher: The fetcher; call its ``set_epoch`` every epoch.
    """
    dataset = dataloader.dataset
    fetcher = dataset.__dict__.get('__getitems__')
    if isinstance(fetcher, SeededBatchFetcher):
        return fetcher
    fetcher = SeededBatchFetcher(dataset, seed)
    dataset.__getitems__ = fetcher
    if dataloader.generator is None:
        dataloader.generator = torch.Generator().manual_seed(int(seed))
    return fetcher

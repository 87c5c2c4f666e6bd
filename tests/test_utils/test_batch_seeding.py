# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Per-batch seeding: what a batch draws depends on (seed, epoch, indices)
only, not on workers, their persistence or where a run restarted."""

import random

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from fer_mm.utils.batch_seeding import (
    batch_seed,
    install_batch_seeding,
    seed_global_generators,
)


class RandomDraws(Dataset):
    """Each item is what an augmentation would draw: one number from each
    of Python's, NumPy's and torch's global generators."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        return torch.tensor(
            [i, random.random(), np.random.rand(), torch.rand(1).item()],
            dtype=torch.float64,
        )


def _epochs(first, last, num_workers, persistent, seeded=True, ctx=None):
    """Batches of epochs ``first``..``last`` from one (new) loader."""
    loader = DataLoader(
        RandomDraws(),
        batch_size=4,
        shuffle=False,
        num_workers=num_workers,
        persistent_workers=persistent,
        multiprocessing_context=ctx,
    )
    fetcher = install_batch_seeding(loader, seed=7) if seeded else None
    seed_global_generators(0)  # the workers' start seeds come from here
    out = {}
    for epoch in range(first, last + 1):
        if fetcher is not None:
            fetcher.set_epoch(epoch)
        out[epoch] = torch.cat(list(loader))
    return out


def test_resumed_persistent_worker_draws_like_uninterrupted():
    full = _epochs(0, 2, num_workers=1, persistent=True)
    resumed = _epochs(2, 2, num_workers=1, persistent=True)
    assert torch.equal(full[2], resumed[2])
    # and the epochs differ from one another (the epoch is in the seed)
    assert not torch.equal(full[1][:, 1:], full[2][:, 1:])


def test_without_seeding_resume_differs():
    # What fer_mm did before: the persistent worker's generators run on
    # over epochs, a resumed run restarts them (the reported 0.298 weight
    # difference).
    full = _epochs(0, 2, num_workers=1, persistent=True, seeded=False)
    resumed = _epochs(2, 2, num_workers=1, persistent=True, seeded=False)
    assert not torch.equal(full[2], resumed[2])


@pytest.mark.parametrize('workers, persistent', [(0, False), (2, False)])
def test_same_draws_for_any_worker_setting(workers, persistent):
    ref = _epochs(0, 1, num_workers=1, persistent=True)
    other = _epochs(0, 1, num_workers=workers, persistent=persistent)
    for epoch in ref:
        assert torch.equal(ref[epoch], other[epoch])


@pytest.mark.slow
def test_spawned_persistent_worker_sees_the_epoch():
    # (a pickled copy of the dataset: the epoch lives in shared memory)
    full = _epochs(0, 2, num_workers=1, persistent=True, ctx='spawn')
    forked = _epochs(0, 2, num_workers=1, persistent=True)
    for epoch in full:
        assert torch.equal(full[epoch], forked[epoch])


def test_values_follow_the_formula():
    batches = _epochs(1, 1, num_workers=0, persistent=False)[1]
    # Batch 2 of epoch 1 holds indices 4..7: seed from (7, 1, 4, 5, 6, 7),
    # then the four items draw in order.
    seed_global_generators(batch_seed(7, 1, [4, 5, 6, 7]))
    expected = [
        [i, random.random(), np.random.rand(), torch.rand(1).item()]
        for i in (4, 5, 6, 7)
    ]
    assert torch.equal(
        batches[4:8], torch.tensor(expected, dtype=torch.float64)
    )


def test_main_process_generators_untouched():
    loader = DataLoader(RandomDraws(), batch_size=4, num_workers=0)
    install_batch_seeding(loader, seed=7)
    seed_global_generators(3)
    list(loader)
    after = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_global_generators(3)
    assert after == (random.random(), np.random.rand(), torch.rand(1).item())


def test_batch_seed_depends_on_every_input():
    base = batch_seed(0, 0, [1, 2])
    assert (
        len(
            {
                base,
                batch_seed(1, 0, [1, 2]),
                batch_seed(0, 1, [1, 2]),
                batch_seed(0, 0, [2, 1]),
            }
        )
        == 4
    )
    assert 0 <= base < 2**63

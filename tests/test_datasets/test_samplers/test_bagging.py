# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from unittest import mock

import numpy as np
import pytest

from fer_mm.datasets import BaggingSampler, bagging_subset


def _sampler(n, rank=0, world=1, **kwargs):
    with mock.patch(
        'fer_mm.datasets.samplers.base.get_dist_info',
        return_value=(rank, world),
    ):
        return BaggingSampler(list(range(n)), seed=7, **kwargs)


def test_fraction_and_rounding():
    assert len(bagging_subset(1000, 0.2, 0)) == 200
    assert len(bagging_subset(10, 0.25, 0)) == 3  # 2.5 rounds up
    assert len(bagging_subset(10, 0.24, 0)) == 2
    assert len(bagging_subset(3, 0.01, 0)) == 1  # never empty
    sub = bagging_subset(1000, 0.2, 0)
    assert len(np.unique(sub)) == 200  # without replacement
    assert sub.min() >= 0 and sub.max() < 1000
    with pytest.raises(ValueError, match=r'\(0, 1\]'):
        bagging_subset(10, 1.5, 0)


def test_reproducible_per_seed():
    a, b = bagging_subset(500, 0.2, 3), bagging_subset(500, 0.2, 3)
    assert np.array_equal(a, b)
    c = bagging_subset(500, 0.2, 4)
    assert not np.array_equal(a, c)
    # two members of a bag overlap about as much as independent draws
    # (expected 0.2 * 100 = 20 of 100 shared indices)
    assert 5 < len(np.intersect1d(a, c)) < 40


def test_same_subset_on_every_rank_and_disjoint_shards():
    full = _sampler(101, subset_seed=2)
    shards = [list(_sampler(101, r, 2, subset_seed=2)) for r in range(2)]
    subset = set(bagging_subset(101, 0.2, 2).tolist())
    assert len(subset) == 20
    assert set(shards[0]) | set(shards[1]) == subset
    assert not set(shards[0]) & set(shards[1])
    assert len(shards[0]) == len(shards[1]) == 10
    assert sorted(full) == sorted(subset)


def test_epochs_shuffle_the_same_subset():
    s = _sampler(200, subset_seed=1)
    first = list(s)
    s.set_epoch(1)
    second = list(s)
    assert first != second and sorted(first) == sorted(second)
    s.set_epoch(0)
    assert list(s) == first  # resume reproduces the order
    assert len(s) == 40
    plain = _sampler(200, subset_seed=1, shuffle=False)
    assert list(plain) == sorted(first)


def test_bad_subset_seed():
    with pytest.raises(ValueError, match='subset_seed must be an int'):
        _sampler(10, subset_seed=None)

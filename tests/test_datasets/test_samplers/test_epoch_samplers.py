# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
import torch
from mmengine.hooks import DistSamplerSeedHook
from mmpretrain.registry import DATA_SAMPLERS
from torch.utils.data import DataLoader

from fer_mm.datasets import ClassBalancedSampler, VideoRefinementSampler

DIST = 'fer_mm.datasets.samplers.base.get_dist_info'


class FakeDataset:
    """Labels (and video ids in the data infos), no get_video_ids()."""

    def __init__(self, labels, videos=None):
        self.labels = np.asarray(labels)
        self.videos = (
            np.zeros(len(self.labels), np.int64) if videos is None else videos
        )

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, idx):
        return idx

    def get_gt_labels(self):
        return self.labels

    def get_data_info(self, idx):
        return dict(gt_label=self.labels[idx], video_id=self.videos[idx])


class FakeVideoDataset(FakeDataset):
    def get_video_ids(self):
        return np.asarray(self.videos)


class NoLabelDataset:
    def __len__(self):
        return 5

    def get_data_info(self, idx):
        return dict(img_path=f'{idx}.jpg')


class NoVideoDataset(FakeDataset):
    def get_data_info(self, idx):
        return dict(gt_label=self.labels[idx])


def long_tailed(counts=(1000, 100, 10), seed=0):
    labels = np.repeat(np.arange(len(counts)), counts)
    return FakeDataset(np.random.default_rng(seed).permutation(labels))


def video_dataset(video_sizes, num_classes=4, seed=0, cls=FakeVideoDataset):
    """Videos of the given sizes; labels random, class 3 made rare."""
    rng = np.random.default_rng(seed)
    videos = np.repeat(np.arange(len(video_sizes)), video_sizes)
    labels = rng.integers(0, num_classes - 1, size=len(videos))
    labels[rng.choice(len(videos), 8, replace=False)] = num_classes - 1
    return cls(labels, videos)


def epoch(sampler, e):
    sampler.set_epoch(e)
    return list(sampler)


# ClassBalancedSampler --------------------------------------------------------


def test_class_balanced_frequencies_uniform_on_long_tail():
    ds = long_tailed()
    sampler = ClassBalancedSampler(ds, num_samples=30000, seed=0)
    idx = np.array(list(sampler))
    freq = np.bincount(ds.labels[idx], minlength=3) / len(idx)
    np.testing.assert_allclose(freq, [1 / 3] * 3, atol=0.02)
    # Within the 10-sample class, each sample is drawn about 1000 times.
    tail = np.bincount(idx[ds.labels[idx] == 2], minlength=len(ds))
    tail = tail[ds.labels == 2]
    assert len(tail) == 10 and tail.min() > 800 and tail.max() < 1200


def test_class_balanced_skips_empty_classes():
    # Class 1 has no samples: the draw is uniform over classes 0 and 2.
    ds = FakeDataset(np.array([0] * 500 + [2] * 5))
    idx = np.array(list(ClassBalancedSampler(ds, num_samples=4000, seed=1)))
    freq = np.bincount(ds.labels[idx], minlength=3) / len(idx)
    np.testing.assert_allclose(freq, [0.5, 0, 0.5], atol=0.03)


def test_class_balanced_num_samples_and_len():
    ds = long_tailed()
    sampler = ClassBalancedSampler(ds, num_samples=257, seed=0)
    assert len(sampler) == 257 and len(list(sampler)) == 257
    default = ClassBalancedSampler(ds, seed=0)
    assert len(default) == len(ds) and len(list(default)) == len(ds)


@pytest.mark.parametrize('kind', ['balanced', 'video'])
def test_epochs_differ_and_same_epoch_repeats(kind):
    sampler = make_sampler(kind, seed=7)
    e1, e2 = epoch(sampler, 1), epoch(sampler, 2)
    assert e1 != e2
    assert epoch(sampler, 1) == e1
    other_seed = make_sampler(kind, seed=8)
    assert epoch(other_seed, 1) != e1


def make_sampler(kind, seed, **kwargs):
    if kind == 'balanced':
        return ClassBalancedSampler(
            long_tailed(),
            num_samples=kwargs.pop('num_samples', 101),
            seed=seed,
        )
    ds = video_dataset([30, 5, 60, 17, 44], num_classes=3)
    kwargs.setdefault('frames_per_video', 20)
    kwargs.setdefault('samples_per_class', 13)  # 3 classes: epoch of 39
    return VideoRefinementSampler(ds, seed=seed, **kwargs)


@pytest.mark.parametrize('kind', ['balanced', 'video'])
@pytest.mark.parametrize('round_up', [True, False])
def test_two_ranks_partition_the_epoch(kind, round_up):
    samplers = []
    for rank in (0, 1):
        with mock.patch(DIST, return_value=(rank, 2)):
            s = make_sampler(kind, seed=3)
        s.round_up = round_up
        s.set_epoch(4)
        samplers.append(s)
    r0, r1 = (np.array(list(s)) for s in samplers)
    assert samplers[0].rank == 0 and samplers[1].rank == 1
    # Both ranks compute the same epoch composition.
    full = samplers[0]._epoch_indices(4)
    np.testing.assert_array_equal(full, samplers[1]._epoch_indices(4))
    total = len(full)
    assert total % 2 == 1  # odd, so padding / truncation matters
    assert len(r0) == len(samplers[0])
    assert len(r1) == len(samplers[1])
    if round_up:
        assert len(r0) == len(r1) == (total + 1) // 2
        expected = np.append(full, full[0])  # padded with the beginning
    else:
        assert (len(r0), len(r1)) == ((total + 1) // 2, total // 2)
        expected = full
    # Rank r takes positions r, r + 2, ...: disjoint, together the epoch.
    merged = np.empty(len(r0) + len(r1), np.int64)
    merged[0::2], merged[1::2] = r0, r1
    np.testing.assert_array_equal(merged, expected)


@pytest.mark.parametrize('kind', ['balanced', 'video'])
def test_resume_gives_same_order(kind):
    first = make_sampler(kind, seed=11)
    seen = [epoch(first, e) for e in range(4)]
    resumed = make_sampler(kind, seed=11)
    resumed.set_epoch(3)
    assert list(resumed) == seen[3]
    assert len(resumed) == len(seen[3])


def test_seed_none_is_synced():
    with mock.patch(
        'fer_mm.datasets.samplers.base.sync_random_seed', return_value=1234
    ) as sync:
        sampler = ClassBalancedSampler(long_tailed(), num_samples=10)
    sync.assert_called_once()
    assert sampler.seed == 1234
    assert list(sampler) == list(
        ClassBalancedSampler(long_tailed(), num_samples=10, seed=1234)
    )


# VideoRefinementSampler ------------------------------------------------------


def test_video_refinement_caps_frames_per_video():
    sizes = [3, 50, 120, 7, 400, 64]
    ds = video_dataset(sizes)
    sampler = VideoRefinementSampler(
        ds, frames_per_video=64, samples_per_class=40, seed=0
    )
    pool = sampler._refine(2)
    assert len(np.unique(pool)) == len(pool)  # without replacement
    per_video = np.bincount(ds.videos[pool], minlength=len(sizes))
    np.testing.assert_array_equal(per_video, np.minimum(sizes, 64))
    # The pool is a random subset, different across epochs.
    assert set(sampler._refine(3).tolist()) != set(pool.tolist())
    # The epoch is drawn from that pool.
    sampler.set_epoch(2)
    assert set(sampler).issubset(set(pool.tolist()))


def test_video_refinement_per_class_counts():
    # 9 videos x 100 frames + 1 of 20, N = 30: a pool of 290 frames. The 8
    # frames of class 3 sit in the short video, so all are pooled (short);
    # classes 0..2 have about 94 pooled frames each.
    rng = np.random.default_rng(0)
    videos = np.repeat(np.arange(10), [100] * 9 + [20])
    labels = rng.integers(0, 3, size=len(videos))
    labels[-8:] = 3
    ds = FakeVideoDataset(labels, videos)
    sampler = VideoRefinementSampler(
        ds, frames_per_video=30, samples_per_class=50, seed=5
    )
    idx = np.array(epoch(sampler, 1))
    np.testing.assert_array_equal(np.bincount(ds.labels[idx]), [50] * 4)
    assert len(sampler) == len(idx) == 200
    pool_counts = np.bincount(ds.labels[sampler._refine(1)], minlength=4)
    assert pool_counts[3] == 8 and pool_counts[:3].min() >= 50
    # Classes with enough frames are drawn without replacement.
    for c in range(3):
        assert len(np.unique(idx[ds.labels[idx] == c])) == 50
    # The output is shuffled, not grouped by class.
    assert np.any(np.diff(ds.labels[idx]) < 0)

    strict = VideoRefinementSampler(
        ds,
        frames_per_video=30,
        samples_per_class=50,
        seed=5,
        replace_if_short=False,
    )
    idx = np.array(epoch(strict, 1))
    pool = strict._refine(1)
    counts = np.bincount(ds.labels[idx], minlength=4)
    expected = np.minimum(np.bincount(ds.labels[pool], minlength=4), 50)
    np.testing.assert_array_equal(counts, expected)
    assert counts[3] == pool_counts[3] < 50  # all of the short class
    assert len(np.unique(idx)) == len(idx) == len(strict)


def test_video_refinement_uses_get_data_info_fallback():
    # No get_video_ids(): string video ids from the data infos.
    base = video_dataset([40, 40, 40], cls=FakeDataset)
    names = np.array(['a_left', 'a_right', 'b'])[base.videos]
    ds = FakeDataset(base.labels, list(names))
    assert not hasattr(ds, 'get_video_ids')
    sampler = VideoRefinementSampler(
        ds, frames_per_video=10, samples_per_class=5, seed=0
    )
    assert sampler.num_videos == 3
    pool = sampler._refine(0)
    _, per_video = np.unique(names[pool], return_counts=True)
    np.testing.assert_array_equal(per_video, [10, 10, 10])
    labels = ds.labels[np.array(list(sampler))]
    present = np.unique(ds.labels[pool])
    np.testing.assert_array_equal(np.bincount(labels)[present], 5)


def test_video_refinement_without_video_ids_raises():
    ds = NoVideoDataset(np.zeros(4, np.int64))
    with pytest.raises(ValueError, match='NoVideoDataset has no video ids'):
        VideoRefinementSampler(ds, seed=0)


# Registry, hooks, DataLoader, bad arguments ---------------------------------


def test_registry_round_trip():
    ds = long_tailed()
    sampler = DATA_SAMPLERS.build(
        dict(type='ClassBalancedSampler', dataset=ds, seed=0)
    )
    assert isinstance(sampler, ClassBalancedSampler)
    assert list(sampler) == list(ClassBalancedSampler(ds, seed=0))
    video = DATA_SAMPLERS.build(
        dict(
            type='VideoRefinementSampler',
            dataset=video_dataset([20, 20]),
            frames_per_video=8,
            samples_per_class=3,
            seed=0,
        )
    )
    assert isinstance(video, VideoRefinementSampler) and len(video) == 12


@pytest.mark.parametrize('kind', ['balanced', 'video'])
def test_dist_sampler_seed_hook_sets_epoch(kind):
    sampler = make_sampler(kind, seed=2)
    loader = DataLoader(sampler.dataset, sampler=sampler, batch_size=4)
    runner = SimpleNamespace(
        epoch=3, train_loop=SimpleNamespace(dataloader=loader)
    )
    DistSamplerSeedHook().before_train_epoch(runner)
    assert sampler.epoch == 3
    assert list(sampler) == epoch(make_sampler(kind, seed=2), 3)


@pytest.mark.parametrize('kind', ['balanced', 'video'])
def test_dataloader_iterates(kind):
    sampler = make_sampler(kind, seed=0)
    loader = DataLoader(sampler.dataset, sampler=sampler, batch_size=4)
    batches = list(loader)
    assert len(batches) == len(loader) == -(-len(sampler) // 4)
    assert torch.cat(batches).tolist() == list(sampler)


@pytest.mark.parametrize(
    'build, match',
    [
        (
            lambda: ClassBalancedSampler(long_tailed(), num_samples=0),
            'num_samples must be > 0',
        ),
        (
            lambda: ClassBalancedSampler(long_tailed(), num_samples=-3),
            'num_samples must be > 0',
        ),
        (
            lambda: ClassBalancedSampler(long_tailed(), num_samples=2.5),
            'num_samples must be a positive integer',
        ),
        (
            lambda: VideoRefinementSampler(
                video_dataset([20]), frames_per_video=0
            ),
            'frames_per_video must be > 0',
        ),
        (
            lambda: VideoRefinementSampler(
                video_dataset([20]), samples_per_class=-1
            ),
            'samples_per_class must be > 0',
        ),
        (
            lambda: ClassBalancedSampler(NoLabelDataset(), seed=0),
            'NoLabelDataset has no labels',
        ),
        (
            lambda: VideoRefinementSampler(NoLabelDataset(), seed=0),
            'NoLabelDataset has no labels',
        ),
        (
            lambda: ClassBalancedSampler(FakeDataset([]), seed=0),
            'FakeDataset is empty',
        ),
        (
            lambda: ClassBalancedSampler(FakeDataset([0, -1, 1]), seed=0),
            '1 samples with a negative label',
        ),
        (
            lambda: ClassBalancedSampler(FakeDataset(np.eye(3)), seed=0),
            'one integer label per sample',
        ),
        (
            lambda: ClassBalancedSampler(FakeDataset([0.0, 1.0]), seed=0),
            'must give integer labels',
        ),
    ],
)
def test_bad_arguments_raise(build, match):
    with pytest.raises(ValueError, match=match):
        build()

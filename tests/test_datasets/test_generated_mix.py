# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import os
import os.path as osp
from types import SimpleNamespace
from unittest import mock

import mmcv
import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATA_SAMPLERS, DATASETS, HOOKS

from fer_mm.datasets import GeneratedMixDataset, GeneratedMixSampler
from fer_mm.engine.hooks import OriginalDataOnlyHook

DIST = 'fer_mm.datasets.samplers.base.get_dist_info'


def make_rafdb(root, counts, prefix='train'):
    """A RAF-DB basic tree with ``counts[c]`` train images of class c."""
    img_dir = osp.join(root, 'basic', 'Image', 'aligned')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(osp.join(root, 'basic', 'EmoLabel'), exist_ok=True)
    lines, k = [], 0
    for c, n in enumerate(counts):
        for _ in range(n):
            k += 1
            name = f'{prefix}_{k:05d}'
            mmcv.imwrite(
                np.full((8, 8, 3), 10 * c, np.uint8),
                osp.join(img_dir, f'{name}_aligned.jpg'),
            )
            lines.append(f'{name}.jpg {c + 1}\n')
    with open(
        osp.join(root, 'basic', 'EmoLabel', 'list_patition_label.txt'), 'w'
    ) as f:
        f.writelines(lines)
    return root


@pytest.fixture(autouse=True, scope='module')
def mmpretrain_scope():
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield


ORIG = (40, 4, 6, 60, 20, 8, 30)  # long-tailed, 168 images
GEN = (0, 20, 10, 0, 0, 12, 0)  # the tail classes 1, 2 and 5


@pytest.fixture(scope='module')
def trees(tmp_path_factory):
    base = tmp_path_factory.mktemp('mix')
    return (
        make_rafdb(str(base / 'orig'), ORIG),
        make_rafdb(str(base / 'gen'), GEN, prefix='train_vaegan'),
    )


@pytest.fixture(scope='module')
def mixed(trees):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
    return DATASETS.build(
        dict(
            type='GeneratedMixDataset',
            original=dict(type='RAFDB', data_root=trees[0]),
            generated=dict(type='RAFDB', data_root=trees[1]),
            pipeline=pipeline,
        )
    )


def test_dataset_layout(mixed):
    assert len(mixed) == sum(ORIG) + sum(GEN)
    assert mixed.num_original == sum(ORIG)
    labels = mixed.get_gt_labels()
    np.testing.assert_array_equal(
        np.bincount(labels[: sum(ORIG)], minlength=7), ORIG
    )
    np.testing.assert_array_equal(
        np.bincount(labels[sum(ORIG) :], minlength=7), GEN
    )
    assert not mixed.is_generated(sum(ORIG) - 1)
    assert mixed.is_generated(sum(ORIG))
    sample = mixed[sum(ORIG)]  # the shared pipeline was applied
    assert 'train_vaegan' in sample['data_samples'].img_path
    assert int(sample['data_samples'].gt_label) == 1
    assert mixed.metainfo['classes'][1] == 'Fear'


def test_dataset_classes_must_match(trees):
    with pytest.raises(ValueError, match='classes of the original'):
        GeneratedMixDataset(
            original=dict(type='RAFDB', data_root=trees[0], pipeline=[]),
            generated=dict(
                type='RAFDB',
                data_root=trees[1],
                pipeline=[],
                target_classes=['Fear', 'Disgust', 'Anger'],
                drop_unmapped=True,
            ),
        )
    with pytest.raises(TypeError, match='generated must be'):
        GeneratedMixDataset(
            original=dict(type='RAFDB', data_root=trees[0]), generated='x'
        )


def _draw(mixed, epoch=0, original_only=False, **kwargs):
    with mock.patch(DIST, return_value=(0, 1)):
        sampler = DATA_SAMPLERS.build(
            dict(type='GeneratedMixSampler', seed=0, **kwargs),
            default_args=dict(dataset=mixed),
        )
    sampler.set_epoch(epoch)
    sampler.set_original_only(original_only)
    return np.asarray(list(sampler))


def test_sampler_ratio_and_classes(mixed):
    labels = mixed.get_gt_labels()
    n = 40000
    idx = _draw(mixed, ratio=0.5, num_samples=n)
    assert len(idx) == n
    gen = idx >= mixed.num_original
    cls = labels[idx]
    # class-balanced: every class about 1/7 of the draws
    np.testing.assert_allclose(
        np.bincount(cls, minlength=7) / n, 1 / 7, atol=0.01
    )
    # generated samples only for classes that have some, half of their draws
    has_gen = np.asarray(GEN)[cls] > 0
    assert not gen[~has_gen].any()
    assert abs(gen[has_gen].mean() - 0.5) < 0.02
    # every generated sample appears
    assert set(idx[gen]) == set(range(mixed.num_original, len(mixed)))
    # the same class sequence as the original-only epoch: a draw is swapped
    # for a sample of its own class
    only = _draw(mixed, ratio=0.5, num_samples=n, original_only=True)
    assert (only < mixed.num_original).all()
    np.testing.assert_array_equal(labels[only], cls)
    np.testing.assert_array_equal(only[~gen], idx[~gen])


def test_sampler_extremes_and_epochs(mixed):
    labels = mixed.get_gt_labels()
    none = _draw(mixed, ratio=0.0)
    assert len(none) == mixed.num_original
    assert (none < mixed.num_original).all()
    full = _draw(mixed, ratio=1.0)
    assert (
        (full >= mixed.num_original) == (np.asarray(GEN)[labels[full]] > 0)
    ).all()
    plain = _draw(mixed, ratio=0.0, class_balanced=False)
    np.testing.assert_array_equal(
        np.sort(plain), np.arange(mixed.num_original)
    )
    np.testing.assert_array_equal(_draw(mixed, 3), _draw(mixed, 3))
    assert not np.array_equal(_draw(mixed, 3), _draw(mixed, 4))


def test_sampler_bad_input(mixed, trees):
    with pytest.raises(ValueError, match=r'ratio must be in \[0, 1\]'):
        _draw(mixed, ratio=1.5)
    from fer_mm.datasets import RAFDB

    plain = RAFDB(trees[0], pipeline=[])
    with pytest.raises(ValueError, match='GeneratedMixDataset'):
        GeneratedMixSampler(plain, seed=0)


def test_original_data_only_hook(mixed):
    with mock.patch(DIST, return_value=(0, 1)):
        sampler = GeneratedMixSampler(mixed, seed=0)
    hook = HOOKS.build(dict(type='OriginalDataOnlyHook', last_epochs=2))
    loader = SimpleNamespace(sampler=sampler)
    modes = []
    for epoch in range(6):
        runner = SimpleNamespace(
            epoch=epoch, max_epochs=6, train_dataloader=loader
        )
        hook.before_train_epoch(runner)
        modes.append(sampler.original_only)
    assert modes == [False] * 4 + [True] * 2
    # a run resumed in epoch 2 is back in mixing mode
    hook.before_train_epoch(
        SimpleNamespace(epoch=2, max_epochs=6, train_dataloader=loader)
    )
    assert not sampler.original_only
    bad = SimpleNamespace(
        epoch=0, max_epochs=6, train_dataloader=SimpleNamespace(sampler=[])
    )
    with pytest.raises(TypeError, match='GeneratedMixSampler'):
        hook.before_train_epoch(bad)
    with pytest.raises(ValueError, match='last_epochs'):
        OriginalDataOnlyHook(last_epochs=-1)

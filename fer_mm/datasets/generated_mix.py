# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Original + generated training data, mixed per draw at a ratio.

The classifier recipe of `Semantic Data Augmentation for Long-tailed Facial
Expression Recognition <https://arxiv.org/abs/2411.17254>`_: class-balanced
batches, a fraction ``ratio`` (0.5 in the paper) of the drawn samples
replaced by generated ones, and original data only in the last epochs
(:class:`fer_mm.engine.hooks.OriginalDataOnlyHook`).
"""

import copy
from typing import List, Optional, Sized, Union

import numpy as np
from mmengine.dataset import BaseDataset, ConcatDataset
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATA_SAMPLERS, DATASETS

from .samplers.base import _EpochShardSampler, _group, _gt_labels


def _build(cfg: Union[dict, BaseDataset], key: str, pipeline) -> BaseDataset:
    if isinstance(cfg, BaseDataset):
        return cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(
            f'GeneratedMixDataset: {key} must be a dataset or a config dict '
            f"with a 'type' key (e.g. dict(type='RAFDB', data_root=...)), "
            f'got {cfg!r}'
        )
    cfg = copy.deepcopy(cfg)
    if 'pipeline' not in cfg and pipeline is not None:
        cfg['pipeline'] = pipeline
    # fer_mm's datasets and their transforms are mmpretrain's, whatever scope
    # the caller is in.
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return DATASETS.build(cfg)


@DATASETS.register_module()
class GeneratedMixDataset(ConcatDataset):
    """An original dataset followed by a generated one with the same classes.

    Indices ``[0, num_original)`` are the original samples, the rest the
    generated ones (e.g. the RAF-DB-layout tree written by
    ``tools/generative/vaegan_generate.py``, read with ``RAFDB``). Which
    samples a batch holds is decided by :class:`GeneratedMixSampler`.

    Args:
        original (dict | BaseDataset): The original training set.
        generated (dict | BaseDataset): The generated samples; its
            ``classes`` must equal the original's.
        pipeline (list, optional): Pipeline for a dataset config without its
            own ``pipeline``. Defaults to None.

    Examples:
        >>> train_dataloader = dict(
        ...     dataset=dict(
        ...         type='GeneratedMixDataset',
        ...         original=dict(type='RAFDB', data_root='data/rafdb'),
        ...         generated=dict(type='RAFDB',
        ...                        data_root='work_dirs/vaegan_generated'),
        ...         pipeline=train_pipeline),
        ...     sampler=dict(type='GeneratedMixSampler', ratio=0.5))
    """

    def __init__(
        self,
        original: Union[dict, BaseDataset],
        generated: Union[dict, BaseDataset],
        pipeline: Optional[List[dict]] = None,
    ) -> None:
        original = _build(original, 'original', pipeline)
        generated = _build(generated, 'generated', pipeline)
        classes = [
            tuple(ds.metainfo.get('classes') or ())
            for ds in (original, generated)
        ]
        if classes[0] != classes[1]:
            raise ValueError(
                'GeneratedMixDataset: the generated dataset must have the '
                f'classes of the original one; original {list(classes[0])}, '
                f'generated {list(classes[1])}'
            )
        ignore = sorted(
            (set(original.metainfo) | set(generated.metainfo)) - {'classes'}
        )
        super().__init__([original, generated], ignore_keys=ignore)

    @property
    def num_original(self) -> int:
        """Number of original samples (they come first)."""
        return len(self.datasets[0])

    def is_generated(self, idx: int) -> bool:
        """Whether index ``idx`` is a generated sample."""
        return idx >= self.num_original

    def get_gt_labels(self) -> np.ndarray:
        """Labels of all samples, original first."""
        return np.concatenate(
            [np.asarray(ds.get_gt_labels()) for ds in self.datasets]
        )

    def __repr__(self) -> str:
        return (
            f'Dataset {type(self).__name__}\n'
            f'    Original samples: \t{self.num_original}\n'
            f'    Generated samples: \t{len(self) - self.num_original}\n'
            f'    Number of categories: \t'
            f'{len(self.metainfo.get("classes", ()))}'
        )


@DATA_SAMPLERS.register_module()
class GeneratedMixSampler(_EpochShardSampler):
    """Draw original samples, replacing a fraction by generated ones.

    Every draw picks an original sample (class-balanced: a class uniformly,
    then one of its samples, as :class:`ClassBalancedSampler`; otherwise a
    random permutation of the original set); with probability ``ratio`` it
    is replaced by a random generated sample *of the same class* (classes
    without generated samples stay original). The expected fraction of
    generated samples per batch is therefore ``ratio`` times the share of
    draws whose class has generated samples. After
    :meth:`set_original_only` (``True``), which
    :class:`~fer_mm.engine.hooks.OriginalDataOnlyHook` calls for the last
    epochs, only original samples are drawn.

    Seeding, sharding and ``round_up`` follow :class:`ClassBalancedSampler`:
    the epoch is a pure function of ``(seed, epoch)``.

    Args:
        dataset (GeneratedMixDataset): The mixed dataset (must provide
            ``num_original`` and ``get_gt_labels()``).
        ratio (float): Probability that a draw is replaced by a generated
            sample, in ``[0, 1]``. Defaults to 0.5 (the paper's).
        class_balanced (bool): Draw classes uniformly. Defaults to True.
        num_samples (int, optional): Draws per epoch over all ranks.
            Defaults to None (the number of original samples).
        seed (int, optional): Random seed, identical on every rank. Defaults
            to None (drawn on rank 0 and broadcast).
        round_up (bool): Pad the epoch to a multiple of the world size.
            Defaults to True.
    """

    def __init__(
        self,
        dataset: Sized,
        ratio: float = 0.5,
        class_balanced: bool = True,
        num_samples: Optional[int] = None,
        seed: Optional[int] = None,
        round_up: bool = True,
    ) -> None:
        owner = type(self).__name__
        if not 0.0 <= float(ratio) <= 1.0:
            raise ValueError(f'{owner}: ratio must be in [0, 1], got {ratio}')
        num_original = getattr(dataset, 'num_original', None)
        if num_original is None:
            raise ValueError(
                f'{owner}: dataset {type(dataset).__name__} has no '
                'num_original; wrap the data in GeneratedMixDataset'
            )
        labels = _gt_labels(dataset, owner)
        if num_original <= 0:
            raise ValueError(f'{owner}: the original dataset is empty')
        if num_samples is None:
            num_samples = num_original
        if isinstance(num_samples, bool) or int(num_samples) <= 0:
            raise ValueError(
                f'{owner}: num_samples must be a positive integer, got '
                f'{num_samples!r}'
            )
        super().__init__(dataset, seed=seed, round_up=round_up)
        self.ratio = float(ratio)
        self.class_balanced = bool(class_balanced)
        self.num_samples = int(num_samples)
        self.num_original = int(num_original)
        self.original_only = False
        orig, gen = labels[:num_original], labels[num_original:]
        self._orig_labels = orig
        self._order, self._starts, self._counts = _group(orig)
        num_classes = int(labels.max()) + 1
        self._gen_order = np.argsort(gen, kind='stable') + num_original
        self._gen_counts = np.bincount(gen, minlength=num_classes)
        self._gen_starts = np.concatenate(
            ([0], np.cumsum(self._gen_counts)[:-1])
        )

    def set_original_only(self, original_only: bool) -> None:
        """Draw only original samples (True) or mix (False)."""
        self.original_only = bool(original_only)

    def _epoch_indices(self, epoch: int) -> np.ndarray:
        rng = self._rng(epoch)
        n = self.num_samples
        if self.class_balanced:
            cls = rng.integers(len(self._counts), size=n)
            offset = rng.integers(0, self._counts[cls])
            indices = self._order[self._starts[cls] + offset]
        elif n == self.num_original:
            indices = rng.permutation(self.num_original)
        else:
            indices = rng.integers(self.num_original, size=n)
        # Always drawn, so that the original draws do not depend on the mode.
        swap = rng.random(n) < self.ratio
        labels = self._orig_labels[indices]
        swap &= self._gen_counts[labels] > 0
        if self.original_only or not swap.any():
            return indices
        swap_labels = labels[swap]
        offset = rng.integers(0, self._gen_counts[swap_labels])
        indices = indices.copy()
        indices[swap] = self._gen_order[self._gen_starts[swap_labels] + offset]
        return indices

    def _epoch_size(self, epoch: int) -> int:
        return self.num_samples

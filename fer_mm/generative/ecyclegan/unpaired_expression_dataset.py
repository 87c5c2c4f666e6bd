# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Unpaired two-expression data for translation models, from a FER set."""

from typing import List, Sequence, Union

import numpy as np
from mmagic.registry import DATASETS
from mmengine.dataset import BaseDataset, force_full_init
from mmengine.registry import DefaultScope

from fer_mm.datasets.categories import CANONICAL_EXPRESSIONS, canonical_name


def build_fer_dataset(cfg: Union[dict, BaseDataset]) -> BaseDataset:
    """Build a fer_mm / mmpretrain dataset from mmpretrain's registry.

    The config may name the type with or without the ``mmpretrain.`` prefix;
    it is built in the mmpretrain scope whatever the current default scope
    (an mmagic-scoped config would otherwise look in mmagic's registry).
    A missing ``pipeline`` becomes an empty one: images are loaded by the
    wrapping dataset's pipeline.
    """
    if isinstance(cfg, BaseDataset):
        return cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(
            'dataset must be a dataset object or a config dict with a '
            f"'type' key (e.g. dict(type='RAFDB', data_root=...)), got {cfg!r}"
        )
    from mmpretrain.registry import DATASETS as PRETRAIN_DATASETS

    import fer_mm.datasets  # noqa: F401  (registers the FER datasets)

    cfg = dict(cfg)
    cfg.setdefault('pipeline', [])
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return PRETRAIN_DATASETS.build(cfg)


def find_class(classes: Sequence[str], name: str, key: str) -> int:
    """Index of the class ``name`` (matched by canonical name) in classes.

    Raises:
        ValueError: no class of ``classes`` has the canonical name of
            ``name`` (the message names ``key`` and the available classes).
    """
    try:
        wanted = canonical_name(name)
    except KeyError:
        raise ValueError(
            f'{key}={name!r} is no expression name; expected one of '
            f'{list(CANONICAL_EXPRESSIONS)} (or a synonym)'
        ) from None
    for i, cls in enumerate(classes):
        try:
            if canonical_name(cls) == wanted:
                return i
        except KeyError:
            continue
    raise ValueError(
        f'{key}={name!r}: the dataset has no class {wanted!r}; its classes '
        f'are {list(classes)}'
    )


@DATASETS.register_module()
class UnpairedExpressionDataset(BaseDataset):
    """Two expression classes of a FER dataset as unpaired image domains.

    Wraps any fer_mm / mmpretrain classification dataset (RAF-DB, FER2013,
    the synthetic set, ...) without re-exporting folders: the samples of
    ``source_class`` form domain A, those of ``target_class`` domain B, both
    picked by canonical expression name (:mod:`fer_mm.datasets.categories`),
    so ``'Disgust'`` finds RAF-DB's label 3 and FER2013's label 1 alike.

    Like mmagic's :class:`UnpairedImageDataset`, item ``i`` pairs the A
    sample ``i mod len(A)`` with a random B sample (training) or B sample
    ``i mod len(B)`` (``test_mode``); the length is ``max(len(A), len(B))``.
    Items are in mmagic's ``img_{domain}`` format: file datasets give
    ``img_{domain}_path`` (load with ``LoadImageFromFile(key='img_{domain}')``),
    in-memory datasets (FER2013) give the image itself as ``img_{domain}``
    (BGR, with ``img_{domain}_channel_order``), so their pipelines start
    after loading.

    Args:
        dataset (dict | BaseDataset): The FER dataset (config built from
            mmpretrain's registry, or an object). Its own pipeline is not
            used.
        source_class (str): Expression of domain A. Defaults to 'Neutral'.
        target_class (str): Expression of domain B. Defaults to 'Disgust'.
        domain_a (str, optional): Name of domain A. Defaults to the lower-case
            canonical name of ``source_class``.
        domain_b (str, optional): Name of domain B. Defaults to the lower-case
            canonical name of ``target_class``.
        pipeline (list): Transforms applied to the pair. Defaults to [].
        test_mode (bool): Deterministic pairing. Defaults to False.

    Examples:
        >>> ds = UnpairedExpressionDataset(
        ...     dataset=dict(type='RAFDB', data_root='data/rafdb'),
        ...     source_class='Neutral', target_class='Disgust')
        >>> sorted(ds.get_data_info(0))
        ['img_disgust_path', 'img_neutral_path', 'sample_idx']
    """

    def __init__(
        self,
        dataset: Union[dict, BaseDataset],
        source_class: str = 'Neutral',
        target_class: str = 'Disgust',
        domain_a: str = None,
        domain_b: str = None,
        pipeline: Sequence = (),
        test_mode: bool = False,
    ):
        self.dataset = build_fer_dataset(dataset)
        classes = tuple(self.dataset.metainfo.get('classes') or ())
        self.source_label = find_class(classes, source_class, 'source_class')
        self.target_label = find_class(classes, target_class, 'target_class')
        if self.source_label == self.target_label:
            raise ValueError(
                f'source_class={source_class!r} and target_class='
                f'{target_class!r} are the same class'
            )
        self.source_class = classes[self.source_label]
        self.target_class = classes[self.target_label]
        self.domain_a = domain_a or canonical_name(self.source_class).lower()
        self.domain_b = domain_b or canonical_name(self.target_class).lower()
        if self.domain_a == self.domain_b:
            raise ValueError(
                f'domain_a and domain_b must differ, both are '
                f'{self.domain_a!r}'
            )
        super().__init__(
            metainfo=dict(
                classes=(self.source_class, self.target_class),
                domains=(self.domain_a, self.domain_b),
            ),
            pipeline=list(pipeline),
            test_mode=test_mode,
            serialize_data=False,
        )

    def load_data_list(self) -> List[dict]:
        """Split the wrapped dataset's indices into the two domains."""
        if hasattr(self.dataset, 'get_gt_labels'):
            labels = np.asarray(self.dataset.get_gt_labels())
        else:
            labels = np.array(
                [
                    int(self.dataset.get_data_info(i)['gt_label'])
                    for i in range(len(self.dataset))
                ]
            )
        self.indices_a = np.flatnonzero(labels == self.source_label)
        self.indices_b = np.flatnonzero(labels == self.target_label)
        for name, idx in (
            (self.source_class, self.indices_a),
            (self.target_class, self.indices_b),
        ):
            if len(idx) == 0:
                raise ValueError(
                    f'UnpairedExpressionDataset: the wrapped '
                    f'{type(self.dataset).__name__} has no sample of class '
                    f'{name!r}'
                )
        return [dict(index=int(i)) for i in self.indices_a]

    def _domain_item(self, domain: str, index: int) -> dict:
        info = self.dataset.get_data_info(int(index))
        out = {f'img_{domain}_path': info.get('img_path', '')}
        if info.get('img') is not None:
            img = info['img']
            out[f'img_{domain}'] = img
            out[f'ori_img_{domain}_shape'] = img.shape
            out[f'img_{domain}_channel_order'] = 'bgr'
            out[f'img_{domain}_color_type'] = 'color'
        return out

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        """The pair of item ``idx`` (see the class docstring)."""
        len_a, len_b = len(self.indices_a), len(self.indices_b)
        index_a = self.indices_a[idx % len_a]
        if self.test_mode:
            index_b = self.indices_b[idx % len_b]
        else:
            index_b = self.indices_b[np.random.randint(0, len_b)]
        info = dict(sample_idx=idx)
        info.update(self._domain_item(self.domain_a, index_a))
        info.update(self._domain_item(self.domain_b, index_b))
        return info

    @force_full_init
    def __len__(self) -> int:
        return max(len(self.indices_a), len(self.indices_b))

    def __repr__(self) -> str:
        lines = [f'Dataset {type(self).__name__}']
        if self._fully_initialized:
            lines += [
                f'    Domain A: \t{self.domain_a} ({self.source_class}, '
                f'{len(self.indices_a)} samples)',
                f'    Domain B: \t{self.domain_b} ({self.target_class}, '
                f'{len(self.indices_b)} samples)',
            ]
        lines.append(f'    Wrapped dataset: \t{type(self.dataset).__name__}')
        return '\n'.join(lines)

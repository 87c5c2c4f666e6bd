# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.registry import BATCH_AUGMENTS, MODELS
from mmpretrain.structures import DataSample


def hard_label_mask(data_samples: Sequence[DataSample]) -> torch.Tensor:
    """Which samples carry a usable hard label (real, not batch-mixed).

    Heads with hard-label losses (DAN's affinity loss, ARBEx's anchor /
    center losses) use these samples only. A sample is excluded when a batch
    augment mixed it (metainfo ``batch_mixed=True``) or it has no
    ``gt_label``.
    """
    return torch.tensor(
        [
            ('gt_label' in s) and not s.metainfo.get('batch_mixed', False)
            for s in data_samples
        ],
        dtype=torch.bool,
    )


@MODELS.register_module()
class FERDataPreprocessor(ClsDataPreprocessor):
    """``ClsDataPreprocessor`` whose batch augments may add samples.

    mmpretrain's preprocessor writes the augmented labels back with ``zip``
    over the original data samples, so an augment that returns more images
    than it got (MixAugment) would lose the extra labels silently. This one:

    * picks one augment per batch like ``RandomBatchAugment`` (``augments``
      and ``probs``; stock ``Mixup`` / ``CutMix`` work unchanged);
    * for an augment with an ``expand`` method (:class:`MixAugment`),
      creates a data sample per extra image with its soft label
      (``gt_score``), keeps the original samples (and their hard labels) for
      the real images, and stores every sample's loss weight in
      ``loss_weight`` (:class:`FERClassifier` hands it to the head);
    * marks samples whose label was mixed with metainfo ``batch_mixed=True``
      (see :func:`hard_label_mask`).

    After it, the numbers of images, data samples, labels and weights are
    equal, or an error is raised.

    Args:
        batch_augments (dict, optional): ``dict(augments=..., probs=...)``,
            as for ``ClsDataPreprocessor``. Defaults to None.
        **kwargs: Other arguments of ``ClsDataPreprocessor``.
    """

    def __init__(self, batch_augments: Optional[dict] = None, **kwargs):
        super().__init__(batch_augments=None, **kwargs)
        self.augments: List = []
        self.probs = None
        if batch_augments:
            augments = batch_augments['augments']
            if not isinstance(augments, (list, tuple)):
                augments = [augments]
            self.augments = [
                BATCH_AUGMENTS.build(a) if isinstance(a, dict) else a
                for a in augments
            ]
            probs = batch_augments.get('probs')
            if probs is not None:
                probs = [probs] if isinstance(probs, float) else list(probs)
                if len(probs) != len(self.augments) or sum(probs) > 1 + 1e-6:
                    raise ValueError(
                        'FERDataPreprocessor: batch_augments.probs must have '
                        f'one value per augment and sum to <= 1, got {probs}'
                    )
                self.augments.append(None)
                probs.append(max(0.0, 1 - sum(probs)))
            self.probs = probs
            self.to_onehot = True

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        samples = data.get('data_samples')
        if not (
            training
            and self.augments
            and samples
            and isinstance(samples[0], DataSample)
            and 'gt_score' in samples[0]
        ):
            return data
        inputs = data['inputs']
        scores = torch.stack([s.gt_score for s in samples]).float()
        aug = self.augments[np.random.choice(len(self.augments), p=self.probs)]
        if aug is None:
            return data
        if hasattr(aug, 'expand'):
            inputs, scores, info = aug.expand(inputs, scores)
            new_samples = []
            for k, src in enumerate(info['source'].tolist()):
                sample = (
                    samples[src]
                    if src >= 0
                    else DataSample(metainfo=dict(batch_mixed=True))
                )
                sample.set_gt_score(scores[k])
                sample.set_field(
                    info['weight'][k : k + 1],
                    'loss_weight',
                    dtype=torch.Tensor,
                )
                new_samples.append(sample)
            samples = new_samples
        else:
            inputs, scores = aug(inputs, scores)
            if inputs.size(0) != len(samples):
                raise RuntimeError(
                    f'FERDataPreprocessor: {type(aug).__name__} returned '
                    f'{inputs.size(0)} images for {len(samples)} samples; an '
                    'augment that changes the batch size needs an `expand` '
                    'method'
                )
            for sample, score in zip(samples, scores):
                sample.set_gt_score(score)
                sample.set_metainfo(dict(batch_mixed=True))
        if not (inputs.size(0) == len(samples) == scores.size(0)):
            raise RuntimeError(
                'FERDataPreprocessor: images, samples and '
                'labels differ in number after augmentation'
            )
        return {'inputs': inputs, 'data_samples': samples}

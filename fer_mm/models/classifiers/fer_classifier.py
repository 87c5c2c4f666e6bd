# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from typing import List

import torch
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.config_hints import with_hint


@MODELS.register_module()
class FERClassifier(ImageClassifier):
    """``ImageClassifier`` that honours per-sample loss weights.

    Identical to mmpretrain's ``ImageClassifier`` except that:

    * the default data preprocessor is
      :class:`fer_mm.models.FERDataPreprocessor` (batch augments may add
      samples, e.g. :class:`fer_mm.models.MixAugment`);
    * when the data samples carry ``loss_weight`` (set by such augments),
      the head's loss gets them as ``weight`` (stock heads pass it to their
      loss module: ``mean(weight * loss)``), which is how MixAugment's loss
      equals its paper's eq. 3.

    Args: see :class:`mmpretrain.models.ImageClassifier`.
    """

    def __init__(self, *args, data_preprocessor=None, **kwargs):
        if data_preprocessor is None or isinstance(data_preprocessor, dict):
            data_preprocessor = dict(data_preprocessor or {})
            data_preprocessor.setdefault('type', 'FERDataPreprocessor')
        try:
            super().__init__(
                *args, data_preprocessor=data_preprocessor, **kwargs
            )
        except TypeError as err:
            parts = dict(zip(('backbone', 'neck', 'head'), args), **kwargs)
            hinted = with_hint(err, parts)
            if hinted is err:
                raise
            raise hinted from err

    def loss(
        self, inputs: torch.Tensor, data_samples: List[DataSample]
    ) -> dict:
        feats = self.extract_feat(inputs)
        if data_samples and 'loss_weight' in data_samples[0]:
            weight = torch.cat([s.loss_weight for s in data_samples])
            return self.head.loss(feats, data_samples, weight=weight)
        return self.head.loss(feats, data_samples)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import torch
from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.registry import MODELS

from .data_preprocessor import FERDataPreprocessor


@MODELS.register_module()
class TwoViewDataPreprocessor(FERDataPreprocessor):
    """:class:`FERDataPreprocessor` for images that stack several views.

    :class:`fer_mm.datasets.TwoViews` stacks an emotion and an appearance
    view of one image along the channels (6 channels). Each 3-channel view is
    converted to RGB and normalised with the same ``mean`` / ``std`` as a
    plain image; batch augments then act on the stacked tensor, so Mixup /
    MixAugment mix both views of a pair with the same ``lambda`` and partner
    (a virtual sample is one mixed face seen by both branches). A 3-channel
    batch (the test pipeline) is processed exactly as by
    :class:`FERDataPreprocessor`.

    Args:
        **kwargs: Arguments of :class:`FERDataPreprocessor`.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        channels = inputs.size(1) if hasattr(inputs, 'size') else None
        if channels is None:
            channels = inputs[0].size(0)
        if channels == 3:
            return super().forward(data, training)
        if channels % 3:
            raise ValueError(
                'TwoViewDataPreprocessor: expected 3 channels per view, got '
                f'{channels} channels'
            )
        views = []
        for v in range(channels // 3):
            part = (
                inputs[:, 3 * v : 3 * v + 3]
                if hasattr(inputs, 'size')
                else [x[3 * v : 3 * v + 3] for x in inputs]
            )
            views.append(
                ClsDataPreprocessor.forward(self, dict(inputs=part), False)[
                    'inputs'
                ]
            )
        stacked = torch.cat(views, dim=1)
        enabled = self._enable_normalize
        self._enable_normalize = False
        try:
            return super().forward(
                dict(inputs=stacked, data_samples=data.get('data_samples')),
                training,
            )
        finally:
            self._enable_normalize = enabled

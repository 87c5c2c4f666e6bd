# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class OriginalDataOnlyHook(Hook):
    """Train on original data only in the last epochs.

    The "only original data in the last few epochs" trick of `Semantic Data
    Augmentation for Long-tailed Facial Expression Recognition
    <https://arxiv.org/abs/2411.17254>`_: before every training epoch the
    sampler (:class:`~fer_mm.datasets.GeneratedMixSampler`) is told whether
    to mix generated samples in (epochs ``< max_epochs - last_epochs``) or
    not. The mode is recomputed from the epoch number every epoch, so a
    resumed run behaves as an uninterrupted one. The sampler lives in the
    main process, so this works with persistent dataloader workers.

    Args:
        last_epochs (int): Number of final epochs without generated data.
            Defaults to 1.

    Examples:
        >>> custom_hooks = [dict(type='OriginalDataOnlyHook', last_epochs=5)]
    """

    priority = 'NORMAL'

    def __init__(self, last_epochs: int = 1) -> None:
        if isinstance(last_epochs, bool) or int(last_epochs) < 0:
            raise ValueError(
                f'OriginalDataOnlyHook: last_epochs must be >= 0, got '
                f'{last_epochs!r}'
            )
        self.last_epochs = int(last_epochs)

    def before_train_epoch(self, runner) -> None:
        """Switch the sampler's mode for the coming epoch."""
        sampler = runner.train_dataloader.sampler
        if not hasattr(sampler, 'set_original_only'):
            raise TypeError(
                'OriginalDataOnlyHook: train_dataloader.sampler is '
                f'{type(sampler).__name__}; expected a sampler with '
                "set_original_only() (type='GeneratedMixSampler')"
            )
        original_only = runner.epoch >= runner.max_epochs - self.last_epochs
        if original_only and not getattr(sampler, 'original_only', False):
            print_log(
                f'OriginalDataOnlyHook: epoch {runner.epoch + 1}: original '
                'data only from now on',
                logger='current',
            )
        sampler.set_original_only(original_only)

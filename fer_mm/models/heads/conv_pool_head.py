# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""A fully-convolutional class layer: class maps, then average pooling."""

from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS


@MODELS.register_module()
class ConvPoolClsHead(ClsHead):
    """Classification head of fully-convolutional networks (mini-Xception).

    A ``kernel_size`` convolution with bias maps the last feature map to one
    map per class ('same' padding, stride 1); global average pooling of each
    map is that class' logit. Equivalent to pooling first and a linear layer
    only for a 1x1 kernel.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the input feature map.
        kernel_size (int): Odd kernel size of the class convolution.
            Defaults to 3 (mini-Xception's).
        init_cfg (dict, optional): Initialization config. Defaults to
            ``dict(type='Kaiming', layer='Conv2d')``.
        **kwargs: :class:`mmpretrain.models.heads.ClsHead` arguments
            (``loss``, ``topk``, ``cal_acc``).

    Example:
        >>> import torch
        >>> from fer_mm.models import ConvPoolClsHead
        >>> head = ConvPoolClsHead(num_classes=7, in_channels=128)
        >>> tuple(head((torch.rand(2, 128, 4, 4),)).shape)
        (2, 7)
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        kernel_size: int = 3,
        init_cfg: Optional[dict] = dict(type='Kaiming', layer='Conv2d'),
        **kwargs,
    ) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(
                f'num_classes={num_classes} must be a positive integer'
            )
        if kernel_size % 2 != 1:
            raise ValueError(
                f'kernel_size={kernel_size} must be odd (same padding)'
            )
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.conv = nn.Conv2d(
            in_channels, num_classes, kernel_size, padding=kernel_size // 2
        )

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The last stage's feature map ``(B, C, H, W)``."""
        x = feats[-1]
        if x.dim() != 4:
            raise ValueError(
                f'ConvPoolClsHead expects a (B, {self.in_channels}, H, W) '
                f'feature map, got {tuple(x.shape)}; use it without a '
                'pooling neck'
            )
        return x

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Class logits ``(B, num_classes)``."""
        return self.conv(self.pre_logits(feats)).mean(dim=(2, 3))

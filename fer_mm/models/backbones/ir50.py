# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""IR-50 (ArcFace "improved residual" ResNet-50), cut after 3 stages."""

from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


class BottleneckIR(BaseModule):
    """The ``bottleneck_IR`` unit of ArcFace / face.evoLVe.

    Residual branch: BN -> 3x3 conv -> PReLU -> 3x3 conv (with the stride)
    -> BN; shortcut: a strided identity when the width is kept, else a
    strided 1x1 conv + BN.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the second 3x3 conv and of the shortcut.
            Defaults to 1.
        init_cfg (dict, optional): Initialization config dict.
            Defaults to None.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, 3, stride=1, padding=1, bias=False
        )
        self.prelu = nn.PReLU(out_channels)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, stride=stride, padding=1, bias=False
        )
        self.bn2 = nn.BatchNorm2d(out_channels)
        if in_channels != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(
                    in_channels, out_channels, 1, stride=stride, bias=False
                ),
                nn.BatchNorm2d(out_channels),
            )
        elif stride > 1:
            # A 1x1 max-pool with a stride: keeps every stride-th pixel.
            self.downsample = nn.MaxPool2d(1, stride)
        else:
            self.downsample = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.prelu(self.conv1(self.bn1(x)))
        return self.bn2(self.conv2(out)) + identity


@MODELS.register_module()
class IR50(BaseModule):
    """The first three stages of IR-50, the image stream of POSTER V2.

    The face-recognition ResNet of `ArcFace <https://arxiv.org/abs/1801.07698>`_
    (face.evoLVe's ``IR_50``) without its 4th stage and output layer, as used
    by `POSTER V2 <https://arxiv.org/abs/2301.12149>`_. On a 112x112 face it
    returns 64x56x56, 128x28x28 and 256x14x14 maps.

    Args:
        stage_blocks (Sequence[int]): Units per stage. Defaults to (3, 4, 14).
        stage_channels (Sequence[int]): Output width of each stage.
            Defaults to (64, 128, 256).
        stem_channels (int): Width of the 3x3 stem conv. Defaults to 64.
        init_cfg (dict | list[dict], optional): Initialization config dict.
            Defaults to None.

    Example:
        >>> import torch
        >>> from fer_mm.models import IR50
        >>> outs = IR50()(torch.rand(1, 3, 112, 112))
        >>> [tuple(o.shape) for o in outs]
        [(1, 64, 56, 56), (1, 128, 28, 28), (1, 256, 14, 14)]
    """

    def __init__(
        self,
        stage_blocks: Sequence[int] = (3, 4, 14),
        stage_channels: Sequence[int] = (64, 128, 256),
        stem_channels: int = 64,
        init_cfg: Optional[Union[dict, list]] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(stage_blocks) != len(stage_channels):
            raise ValueError(
                'stage_blocks and stage_channels must have the same length, '
                f'got {len(stage_blocks)} and {len(stage_channels)}'
            )
        self.stage_blocks = tuple(stage_blocks)
        self.stage_channels = tuple(stage_channels)
        self.stem = ConvModule(
            3,
            stem_channels,
            3,
            padding=1,
            bias=False,
            norm_cfg=dict(type='BN'),
            act_cfg=dict(type='PReLU', num_parameters=stem_channels),
        )
        in_channels = stem_channels
        self.layer_names = []
        for i, (num_units, channels) in enumerate(
            zip(stage_blocks, stage_channels), start=1
        ):
            # Every stage starts with a stride-2 unit (stage 1 included).
            units = [BottleneckIR(in_channels, channels, stride=2)]
            units += [
                BottleneckIR(channels, channels) for _ in range(num_units - 1)
            ]
            self.add_module(f'layer{i}', nn.Sequential(*units))
            self.layer_names.append(f'layer{i}')
            in_channels = channels

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.stem(x)
        outs = []
        for name in self.layer_names:
            x = getattr(self, name)(x)
            outs.append(x)
        return tuple(outs)

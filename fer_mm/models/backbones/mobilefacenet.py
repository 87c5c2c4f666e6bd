# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""MobileFaceNet trunk: the landmark stream of POSTER V2."""

from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmpretrain.models.utils import InvertedResidual
from mmpretrain.registry import MODELS


def _prelu(channels: int) -> dict:
    return dict(type='PReLU', num_parameters=channels)


@MODELS.register_module()
class MobileFaceNet(BaseModule):
    """MobileFaceNet trunk of a 68-point facial landmark detector.

    `MobileFaceNet <https://arxiv.org/abs/1804.07573>`_ trained to regress
    136 landmark coordinates on 112x112 faces; `POSTER V2
    <https://arxiv.org/abs/2301.12149>`_ keeps it frozen and reads three of
    its maps as attention queries. The landmark regressor (GDC output layer)
    is not built: nothing downstream uses it.

    Blocks are mmpretrain ``InvertedResidual`` units with PReLU (the
    reference's ``Depth_Wise``: 1x1 expand, 3x3 depthwise, 1x1 linear).

    Layout (output sizes at a 112x112 input)::

        conv1, conv2  3x3 s2 conv, 3x3 depthwise conv    64x56x56
        layer1        5 units, 64 wide, expand 128       64x28x28  (tap 1)
        layer2        7 units, 128 wide, expand 256      128x14x14 (tap 2)
        layer3        3 units, 128 wide, expand 512/256  128x7x7
        conv3         1x1 conv 128 -> 512                512x7x7   (tap 3)

    The first unit of each layer has stride 2 and no residual connection.

    Args:
        init_cfg (dict | list[dict], optional): Initialization config dict.
            Defaults to None.

    Example:
        >>> import torch
        >>> from fer_mm.models import MobileFaceNet
        >>> outs = MobileFaceNet()(torch.rand(1, 3, 112, 112))
        >>> [tuple(o.shape) for o in outs]
        [(1, 64, 28, 28), (1, 128, 14, 14), (1, 512, 7, 7)]
    """

    # (out_channels, expand_channels, num_units) of the 3 stages; the first
    # unit of a stage has stride 2.
    arch = ((64, 128, 5), (128, 256, 7), (128, 512, 3))
    # The later units of the last stage expand to 256, not 512.
    last_stage_expand = 256

    def __init__(self, init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        norm_cfg = dict(type='BN')
        self.conv1 = ConvModule(
            3,
            64,
            3,
            stride=2,
            padding=1,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=_prelu(64),
        )
        self.conv2 = ConvModule(
            64,
            64,
            3,
            padding=1,
            groups=64,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=_prelu(64),
        )
        in_channels = 64
        for i, (out_channels, expand, num_units) in enumerate(self.arch):
            units = []
            for j in range(num_units):
                mid = expand
                if i == len(self.arch) - 1 and j > 0:
                    mid = self.last_stage_expand
                units.append(
                    InvertedResidual(
                        in_channels,
                        out_channels,
                        mid,
                        stride=2 if j == 0 else 1,
                        norm_cfg=norm_cfg,
                        act_cfg=_prelu(mid),
                    )
                )
                in_channels = out_channels
            self.add_module(f'layer{i + 1}', nn.Sequential(*units))
        self.conv3 = ConvModule(
            in_channels,
            512,
            1,
            bias=False,
            norm_cfg=norm_cfg,
            act_cfg=_prelu(512),
        )

    def forward(
        self, x: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.conv2(self.conv1(x))
        tap1 = self.layer1(x)
        tap2 = self.layer2(tap1)
        tap3 = self.conv3(self.layer3(tap2))
        return tap1, tap2, tap3

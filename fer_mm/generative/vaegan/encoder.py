# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""ResNet-style VAE encoder: image -> (mu, log sigma^2)."""

from typing import Optional, Tuple

import torch.nn as nn
from mmagic.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor


@MODELS.register_module()
class VAEEncoder(BaseModule):
    """A ResNet backbone with two linear heads for a Gaussian posterior.

    The encoder :math:`E` of the VAE-GAN in `Semantic Data Augmentation for
    Long-tailed Facial Expression Recognition
    <https://arxiv.org/abs/2411.17254>`_: a ResNet (mmpretrain's, built from
    ``backbone``), global average pooling, and linear layers giving the
    mean :math:`E_\\mu(x)` and log-variance :math:`\\log E_{\\sigma^2}(x)`.

    Args:
        latent_dim (int): Size of the latent code (the generator's
            ``noise_size``). Defaults to 128.
        backbone (dict): Config of the backbone; its last output is pooled.
            Defaults to a ResNet-18 with 64 base channels
            (``type='mmpretrain.ResNet'``).
        feat_channels (int, optional): Channels of the pooled feature; read
            from the backbone's ``feat_dim`` when None. Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.

    Examples:
        >>> enc = VAEEncoder(latent_dim=16, backbone=dict(
        ...     type='mmpretrain.ResNet', depth=18, base_channels=8,
        ...     stem_channels=8))
        >>> mu, logvar = enc(torch.rand(2, 3, 64, 64))
        >>> mu.shape, logvar.shape
        (torch.Size([2, 16]), torch.Size([2, 16]))
    """

    def __init__(
        self,
        latent_dim: int = 128,
        backbone: Optional[dict] = None,
        feat_channels: Optional[int] = None,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if backbone is None:
            backbone = dict(type='mmpretrain.ResNet', depth=18)
        self.latent_dim = int(latent_dim)
        self.backbone = MODELS.build(backbone)
        if feat_channels is None:
            feat_channels = getattr(self.backbone, 'feat_dim', None)
        if feat_channels is None:
            raise ValueError(
                f'encoder: cannot read the feature size of '
                f'{type(self.backbone).__name__} (no feat_dim attribute); '
                'set encoder.feat_channels'
            )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc_mu = nn.Linear(feat_channels, self.latent_dim)
        self.fc_logvar = nn.Linear(feat_channels, self.latent_dim)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Encode images.

        Args:
            x (Tensor): Images, shape (N, 3, H, W).

        Returns:
            tuple[Tensor, Tensor]: ``mu`` and ``logvar``, each (N, D).
        """
        feats = self.backbone(x)
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        feats = self.pool(feats).flatten(1)
        return self.fc_mu(feats), self.fc_logvar(feats)

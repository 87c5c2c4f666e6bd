# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import copy
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


def _conv_bn(
    in_channels: int,
    out_channels: int,
    kernel_size: Tuple[int, int],
    padding: Tuple[int, int],
) -> nn.Sequential:
    """A biased convolution followed by BatchNorm (as in the reference)."""
    return nn.Sequential(
        OrderedDict(
            conv=nn.Conv2d(
                in_channels, out_channels, kernel_size, padding=padding
            ),
            bn=nn.BatchNorm2d(out_channels),
        )
    )


class DANSpatialAttention(nn.Module):
    """Spatial attention unit of a DAN cross-attention head.

    ``y = ReLU(BN(conv3x3(z)) + BN(conv1x3(z)) + BN(conv3x1(z)))`` with
    ``z = BN(conv1x1(x))``; the output is ``x * sum_c(y)``, the input
    reweighted by a ``(B, 1, H, W)`` map (no sigmoid, as in the paper).

    Args:
        in_channels (int): Channels of the feature map.
        mid_channels (int): Channels after the 1x1 reduction.
    """

    def __init__(self, in_channels: int, mid_channels: int) -> None:
        super().__init__()
        self.conv1x1 = _conv_bn(in_channels, mid_channels, (1, 1), (0, 0))
        self.conv3x3 = _conv_bn(mid_channels, in_channels, (3, 3), (1, 1))
        self.conv1x3 = _conv_bn(mid_channels, in_channels, (1, 3), (0, 1))
        self.conv3x1 = _conv_bn(mid_channels, in_channels, (3, 1), (1, 0))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1x1(x)
        y = self.relu(self.conv3x3(y) + self.conv1x3(y) + self.conv3x1(y))
        return x * y.sum(dim=1, keepdim=True)


class DANChannelAttention(nn.Module):
    """Channel attention unit of a DAN cross-attention head.

    ``s = GAP(x)``; ``out = s * sigmoid(fc2(ReLU(BN(fc1(s)))))``.

    Args:
        in_channels (int): Channels of the feature map.
        reduction_channels (int): Width of the bottleneck.
    """

    def __init__(self, in_channels: int, reduction_channels: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_channels, reduction_channels)
        self.norm = nn.BatchNorm1d(reduction_channels)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(reduction_channels, in_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean(dim=(2, 3))
        gate = torch.sigmoid(self.fc2(self.relu(self.norm(self.fc1(s)))))
        return s * gate


class DANCrossAttentionHead(nn.Module):
    """One cross-attention head: spatial then channel attention.

    Args:
        in_channels (int): Channels of the feature map.
        mid_channels (int): See :class:`DANSpatialAttention`.
        reduction_channels (int): See :class:`DANChannelAttention`.
    """

    def __init__(
        self, in_channels: int, mid_channels: int, reduction_channels: int
    ) -> None:
        super().__init__()
        self.spatial = DANSpatialAttention(in_channels, mid_channels)
        self.channel = DANChannelAttention(in_channels, reduction_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.channel(self.spatial(x))


@MODELS.register_module()
class DANAttentionNeck(BaseModule):
    """Multi-head cross Attention Network (MAN) of DAN.

    `Distract Your Attention: Multi-head Cross Attention Network for Facial
    Expression Recognition <https://arxiv.org/abs/2109.07270>`_.

    Runs ``num_heads`` independent :class:`DANCrossAttentionHead` on the last
    feature map ``F`` of the backbone. Each head reweights ``F`` spatially,
    pools it and gates the channels, giving a ``(B, C)`` vector.

    The neck returns a tuple ``(heads, pooled)``:

    - ``heads``: the head outputs stacked as ``(B, num_heads, C)``, which
      :class:`fer_mm.models.DANHead` fuses (AFN) and feeds to the partition
      loss;
    - ``pooled``: the global average pool of ``F``, ``(B, C)``, the feature
      the affinity loss pulls towards the class centres.

    For ResNet-18 (``in_channels=512``) the defaults give the paper's widths
    (256 and 32); the inner widths scale with ``in_channels`` otherwise.

    Args:
        in_channels (int): Channels ``C`` of the feature map. Defaults to 512.
        num_heads (int): Number of attention heads. Defaults to 4.
        mid_channels (int, optional): Width of the spatial unit's 1x1
            reduction. Defaults to None (``in_channels // 2``).
        reduction_channels (int, optional): Width of the channel unit's
            bottleneck. Defaults to None (``in_channels // 16``).
        init_cfg (dict | list[dict], optional): Initialisation; the default
            is the reference's: Kaiming-normal (fan_out) convolutions, BN
            weight 1 / bias 0, Linear weights ``N(0, 0.001^2)``, biases 0.

    Examples:
        >>> import torch
        >>> from fer_mm.models import DANAttentionNeck
        >>> neck = DANAttentionNeck(in_channels=64, num_heads=2).eval()
        >>> heads, pooled = neck((torch.rand(3, 64, 7, 7), ))
        >>> heads.shape, pooled.shape
        (torch.Size([3, 2, 64]), torch.Size([3, 64]))
    """

    def __init__(
        self,
        in_channels: int = 512,
        num_heads: int = 4,
        mid_channels: Optional[int] = None,
        reduction_channels: Optional[int] = None,
        init_cfg: Optional[Union[dict, List[dict]]] = [
            dict(
                type='Kaiming',
                layer='Conv2d',
                mode='fan_out',
                nonlinearity='relu',
                distribution='normal',
            ),
            dict(type='Constant', layer='_BatchNorm', val=1.0, bias=0.0),
            dict(type='Normal', layer='Linear', std=0.001, bias=0.0),
        ],
    ) -> None:
        super().__init__(init_cfg=copy.deepcopy(init_cfg))
        if mid_channels is None:
            mid_channels = in_channels // 2
        if reduction_channels is None:
            reduction_channels = in_channels // 16
        for name, value in (
            ('in_channels', in_channels),
            ('num_heads', num_heads),
            ('mid_channels', mid_channels),
            ('reduction_channels', reduction_channels),
        ):
            if value < 1:
                raise ValueError(
                    f'DANAttentionNeck: {name} must be >= 1, got {value}'
                )
        self.in_channels = in_channels
        self.num_heads = num_heads
        self.mid_channels = mid_channels
        self.reduction_channels = reduction_channels
        self.heads = nn.ModuleList(
            DANCrossAttentionHead(
                in_channels, mid_channels, reduction_channels
            )
            for _ in range(num_heads)
        )

    def forward(
        self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Attend to the last feature map.

        Args:
            inputs (Tensor | Sequence[Tensor]): The backbone output; with a
                sequence, the last item ``(B, C, H, W)`` is used.

        Returns:
            tuple[Tensor, Tensor]: ``heads`` ``(B, num_heads, C)`` and
            ``pooled`` ``(B, C)``.
        """
        x = inputs[-1] if isinstance(inputs, (tuple, list)) else inputs
        if x.dim() != 4 or x.size(1) != self.in_channels:
            raise ValueError(
                f'DANAttentionNeck: expected a (B, {self.in_channels}, H, W) '
                f'feature map, got shape {tuple(x.shape)}. '
                + _feature_map_hint(x, self.in_channels)
            )
        heads = torch.stack([head(x) for head in self.heads], dim=1)
        return heads, x.mean(dim=(2, 3))


def _feature_map_hint(x: torch.Tensor, in_channels: int) -> str:
    """How to make a backbone hand the neck the map it needs."""
    if x.dim() == 2:
        return (
            'The backbone returned pooled vectors: give it its spatial map, '
            "e.g. backbone.gap_before_final_norm=False for mmpretrain's "
            "ConvNeXt, backbone.out_type='featmap' for a ViT-style backbone, "
            'and no pooling neck before this one.'
        )
    if x.dim() == 4:
        return (
            f"Set neck.in_channels={x.size(1)} (and the head's in_channels) "
            'to the channels of the backbone output.'
        )
    return 'Use a backbone that returns (B, C, H, W) feature maps.'

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Landmark-to-image window cross-attention of POSTER V2."""

from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmcv.cnn.bricks.transformer import FFN
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.utils import LayerScale, build_norm_layer


def _pair(size: Union[int, Sequence[int]]) -> tuple:
    return (size, size) if isinstance(size, int) else tuple(size)


class WindowCrossAttention(BaseModule):
    """Cross-attention from landmark queries to image keys/values.

    The global-query window attention of `GC ViT
    <https://arxiv.org/abs/2206.09959>`_ as used by `POSTER V2
    <https://arxiv.org/abs/2301.12149>`_: keys and values are a linear
    projection of the image tokens, the queries are the landmark features
    split into heads *without* a projection, and a Swin-style relative
    position bias is added to the logits.

    Args:
        embed_dims (int): Channels of image and landmark tokens.
        num_heads (int): Attention heads.
        window_size (int | Sequence[int]): Height and width of the window.
        qkv_bias (bool): Bias in the key/value projection. Defaults to True.
        attn_drop (float): Dropout on the attention weights. Defaults to 0.
        proj_drop (float): Dropout after the output projection.
            Defaults to 0.
        init_cfg (dict, optional): Initialization config dict.
            Defaults to None.
    """

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        window_size: Union[int, Sequence[int]],
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads:
            raise ValueError(
                f'embed_dims ({embed_dims}) must be divisible by num_heads '
                f'({num_heads})'
            )
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.window_size = _pair(window_size)
        self.attn_drop = attn_drop

        wh, ww = self.window_size
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * wh - 1) * (2 * ww - 1), num_heads)
        )
        # index[i, j] = (hi - hj + wh - 1) * (2 ww - 1) + (wi - wj + ww - 1);
        # derived from the window size, so not saved in checkpoints.
        coords = torch.stack(
            torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing='ij')
        ).flatten(1)
        rel = coords[:, :, None] - coords[:, None, :]
        index = (rel[0] + wh - 1) * (2 * ww - 1) + (rel[1] + ww - 1)
        self.register_buffer(
            'relative_position_index', index, persistent=False
        )

        self.kv = nn.Linear(embed_dims, embed_dims * 2, bias=qkv_bias)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop)

    def init_weights(self) -> None:
        super().init_weights()
        trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """Attend from ``query`` to ``x``.

        Args:
            x (torch.Tensor): Image tokens of one window, (B, N, C).
            query (torch.Tensor): Landmark tokens, (B, N, C).

        Returns:
            torch.Tensor: (B, N, C).
        """
        B, N, C = x.shape
        head_dims = C // self.num_heads
        kv = self.kv(x).reshape(B, N, 2, self.num_heads, head_dims)
        k, v = kv.permute(2, 0, 3, 1, 4).unbind(0)
        q = query.reshape(B, N, self.num_heads, head_dims).transpose(1, 2)
        bias = self.relative_position_bias_table[
            self.relative_position_index.view(-1)
        ].view(N, N, self.num_heads)
        bias = bias.permute(2, 0, 1).unsqueeze(0).to(k.dtype)
        # Default scale head_dims ** -0.5, as in the reference.
        out = F.scaled_dot_product_attention(
            q.to(k.dtype),
            k,
            v,
            attn_mask=bias,
            dropout_p=self.attn_drop if self.training else 0.0,
        )
        out = out.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(out))


class WindowCrossAttentionBlock(BaseModule):
    """One POSTER V2 scale: landmark-guided attention plus an MLP.

    With ``x`` the (B, C, H, W) image map and ``q`` the landmark map of the
    same shape, both flattened to tokens (the window covers the whole map)::

        x = LN1(x)
        x = x + DropPath(gamma1 * Attn(x, q))
        x = x + DropPath(gamma2 * MLP(LN2(x)))

    Note the first residual starts from the *normalised* image tokens, as in
    the reference.

    Args:
        embed_dims (int): Channels of the image and landmark maps.
        num_heads (int): Attention heads.
        window_size (int | Sequence[int]): Size of the (single) window; the
            input maps must have exactly this size.
        mlp_ratio (float): Hidden width of the MLP over ``embed_dims``.
            Defaults to 4.
        drop_path_rate (float): Stochastic depth rate. Defaults to 0.
        layer_scale_init_value (float): Initial value of ``gamma1`` and
            ``gamma2``. Defaults to 1e-5.
        norm_cfg (dict): Config of both norms. Defaults to
            ``dict(type='LN')``.
        act_cfg (dict): Activation of the MLP. Defaults to
            ``dict(type='GELU')``.
        init_cfg (dict, optional): Initialization config dict.
            Defaults to None.
    """

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        window_size: Union[int, Sequence[int]],
        mlp_ratio: float = 4.0,
        drop_path_rate: float = 0.0,
        layer_scale_init_value: float = 1e-5,
        norm_cfg: dict = dict(type='LN'),
        act_cfg: dict = dict(type='GELU'),
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.window_size = _pair(window_size)
        self.norm1 = build_norm_layer(norm_cfg, embed_dims)
        self.attn = WindowCrossAttention(embed_dims, num_heads, window_size)
        self.gamma1 = LayerScale(embed_dims, layer_scale_init_value)
        self.drop_path = (
            DropPath(drop_path_rate) if drop_path_rate > 0 else nn.Identity()
        )
        self.norm2 = build_norm_layer(norm_cfg, embed_dims)
        self.ffn = FFN(
            embed_dims=embed_dims,
            feedforward_channels=int(embed_dims * mlp_ratio),
            act_cfg=act_cfg,
            dropout_layer=dict(type='DropPath', drop_prob=drop_path_rate),
            layer_scale_init_value=layer_scale_init_value,
        )

    def forward(self, x: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """Fuse a landmark map into an image map of the same shape.

        Args:
            x (torch.Tensor): Image map, (B, C, H, W).
            query (torch.Tensor): Landmark map, (B, C, H, W).

        Returns:
            torch.Tensor: The fused map, (B, C, H, W).
        """
        B, C, H, W = x.shape
        if (H, W) != self.window_size or query.shape != x.shape:
            raise ValueError(
                f'expected image and landmark maps of {C}x'
                f'{self.window_size[0]}x{self.window_size[1]}, got '
                f'{tuple(x.shape[1:])} and {tuple(query.shape[1:])}'
            )
        x = self.norm1(x.flatten(2).transpose(1, 2))
        query = query.flatten(2).transpose(1, 2)
        x = x + self.drop_path(self.gamma1(self.attn(x, query)))
        x = self.ffn(self.norm2(x), identity=x)
        return x.transpose(1, 2).reshape(B, C, H, W)

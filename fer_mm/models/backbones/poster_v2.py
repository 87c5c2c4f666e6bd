# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""POSTER V2 (POSTER++) feature extractor."""

from collections import OrderedDict
from contextlib import nullcontext
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.models.backbones.vision_transformer import (
    TransformerEncoderLayer,
)
from mmpretrain.models.utils import build_norm_layer
from mmpretrain.registry import MODELS

from ..utils.window_cross_attention import WindowCrossAttentionBlock
from .ir50 import IR50
from .mobilefacenet import MobileFaceNet

# Widths of the MobileFaceNet taps that serve as queries of scales 1 and 2.
_LANDMARK_WIDTHS = (64, 128)
_LANDMARK_LAST_WIDTH = 512


@MODELS.register_module()
class PosterV2(BaseBackbone):
    """POSTER V2 (POSTER++) feature extractor.

    A PyTorch implementation of `POSTER++: A simpler and stronger facial
    expression recognition network <https://arxiv.org/abs/2301.12149>`_
    without its classifier: the output is the 768-d SE-gated class token,
    the embedding that POSTER V2's linear classifier and ARBEx's
    reliability-balancing head consume.

    Pipeline (shapes for the default arguments)::

        input (B, 3, 224, 224) -> nearest resize to 112x112, then
        image stream: IR-50, 3 stages -> 64x56x56, 128x28x28, 256x14x14
                      -> a 3x3 stride-2 conv per scale
                      -> 64x28x28, 128x14x14, 256x7x7
        landmark stream: frozen MobileFaceNet -> 64x28x28, 128x14x14,
                      512x7x7 -> 3x3 conv 512->256 (trainable)
        per scale: window cross-attention (one window = the whole map),
                   landmark queries, heads (2, 4, 8), layer scale, MLP
        tokens: 2x (3x3 s2 conv) 64->768, 3x3 s2 conv 128->768,
                1x1 conv 256->768 -> 3 x 49 = 147 tokens + CLS
                + learned position embedding (148 x 768)
        2 ViT layers (8 heads, MLP ratio 4) -> LN(CLS) -> SE gate
        -> embedding (B, 768)

    Only modules that reach the output are built. The reference also
    instantiates IR-50's output layer (12.85 M) and dead ViT modules
    (1.62 M), 58.3 M parameters in all, and runs MobileFaceNet's landmark
    regressor (0.1 M) only to discard its output; with a 7-class linear head
    this implementation has 43,753,941 parameters (the reference's executed
    modules: 43.85 M). Weights in the reference layouts are converted by
    ``tools/model_converters/poster_to_fermm.py``; a converted POSTER V2
    checkpoint loads with ``init_cfg=dict(type='Pretrained',
    checkpoint=..., prefix='backbone.')``, converted stream weights with
    ``ir50_init_cfg`` / ``landmark_init_cfg``.

    Args:
        img_size (int): Nominal input size (any size is resized to
            ``inner_size``). Defaults to 224.
        inner_size (int): Side of the face both streams see. Defaults to 112.
        embed_dims (int): Width of the tokens and the embedding.
            Defaults to 768.
        window_sizes (Sequence[int]): Window of each scale; must equal the
            map sizes ``inner_size // (4, 8, 16)``. Defaults to (28, 14, 7).
        num_heads (Sequence[int]): Heads of each cross-attention.
            Defaults to (2, 4, 8).
        dims (Sequence[int]): Widths of the three scales (IR-50 stages).
            Defaults to (64, 128, 256).
        drop_path (Sequence[float]): Stochastic depth of each scale.
            Defaults to (0.0, 0.125, 0.25).
        vit_depth (int): ViT layers over the tokens. Defaults to 2.
        vit_num_heads (int): Heads of the ViT layers. Defaults to 8.
        mlp_ratio (float): MLP ratio of the cross-attention blocks and the
            ViT layers. Defaults to 4.
        layer_scale_init_value (float): Initial layer scale of the
            cross-attention blocks. Defaults to 1e-5.
        out_type (str): ``'embedding'``: a 1-tuple with the (B, embed_dims)
            embedding; ``'multiscale'``: the three fused maps (B, dims[i],
            window_sizes[i], window_sizes[i]) followed by the embedding (last,
            so heads that read ``feats[-1]`` work with both).
            Defaults to ``'embedding'``.
        freeze_ir50 (bool): Stop gradients into IR-50 (its parameters get
            ``requires_grad=False``); POSTER V2 trains it, ARBEx freezes it.
            Defaults to False.
        freeze_landmark (bool): Stop gradients into the landmark stream, as
            the reference always does. Defaults to True.
        frozen_stats (bool): Also keep the BatchNorm layers of the frozen
            streams in eval mode, so they normalise with (and never update)
            their running statistics. The references (POSTER V2's
            ``pyramid_trans_expr2``, ARBEx's ``get_poster``) only set
            ``requires_grad=False``: in train mode those BatchNorms normalise
            with batch statistics and keep updating their running
            statistics, which is the default here. ``True`` is fer_mm's
            fixed-statistics option. Defaults to False.
        ir50_init_cfg (dict, optional): ``init_cfg`` of the IR-50 stream,
            e.g. ``dict(type='Pretrained', checkpoint='ir50_fermm.pth')``
            for a file converted by
            ``tools/model_converters/poster_to_fermm.py`` (add
            ``prefix='backbone.ir50.'`` to take it from a converted POSTER V2
            checkpoint). Defaults to None.
        landmark_init_cfg (dict, optional): ``init_cfg`` of the
            MobileFaceNet landmark stream, e.g. ``dict(type='Pretrained',
            checkpoint='mobilefacenet_fermm.pth')``. Defaults to None.
        init_cfg (dict | list[dict], optional): Initialization config dict.
            A ``Pretrained`` config (e.g. a converted POSTER V2 checkpoint)
            is applied after, and so overrides, the two above.
            Defaults to None.

    Example:
        >>> import torch
        >>> from mmpretrain.registry import MODELS
        >>> import fer_mm  # noqa: F401
        >>> model = MODELS.build(dict(type='PosterV2'))
        >>> (emb,) = model(torch.rand(1, 3, 224, 224))
        >>> tuple(emb.shape)
        (1, 768)
    """

    OUT_TYPES = ('embedding', 'multiscale')

    def __init__(
        self,
        img_size: int = 224,
        inner_size: int = 112,
        embed_dims: int = 768,
        window_sizes: Sequence[int] = (28, 14, 7),
        num_heads: Sequence[int] = (2, 4, 8),
        dims: Sequence[int] = (64, 128, 256),
        drop_path: Sequence[float] = (0.0, 0.125, 0.25),
        vit_depth: int = 2,
        vit_num_heads: int = 8,
        mlp_ratio: float = 4.0,
        layer_scale_init_value: float = 1e-5,
        out_type: str = 'embedding',
        freeze_ir50: bool = False,
        freeze_landmark: bool = True,
        frozen_stats: bool = False,
        ir50_init_cfg: Optional[dict] = None,
        landmark_init_cfg: Optional[dict] = None,
        init_cfg: Optional[Union[dict, list]] = None,
        **kwargs,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        for removed in ('ir50_checkpoint', 'landmark_checkpoint'):
            if removed in kwargs:
                stream = 'ir50' if removed.startswith('ir50') else 'landmark'
                raise TypeError(
                    f'PosterV2: {removed}= was removed (reference-layout '
                    'files are no longer converted on load). Convert the file '
                    'with tools/model_converters/poster_to_fermm.py and set '
                    f"{stream}_init_cfg=dict(type='Pretrained', "
                    "checkpoint='<converted file>')"
                )
        if kwargs:
            raise TypeError(f'PosterV2: unexpected arguments {sorted(kwargs)}')
        if out_type not in self.OUT_TYPES:
            raise ValueError(
                f'out_type must be one of {self.OUT_TYPES}, got {out_type!r}'
            )
        for name, value in (
            ('window_sizes', window_sizes),
            ('num_heads', num_heads),
            ('dims', dims),
            ('drop_path', drop_path),
        ):
            if len(value) != 3:
                raise ValueError(f'{name} needs 3 values, got {value}')
        expected_windows = tuple(inner_size // s for s in (4, 8, 16))
        if inner_size % 16 or tuple(window_sizes) != expected_windows:
            raise ValueError(
                f'window_sizes must equal the map sizes {expected_windows} of '
                f'an inner_size of {inner_size} (a multiple of 16) with one '
                f'window per map, got {tuple(window_sizes)}'
            )
        if tuple(dims[:2]) != _LANDMARK_WIDTHS:
            raise ValueError(
                f'dims[:2] must be {_LANDMARK_WIDTHS}, the widths of the '
                f'MobileFaceNet maps used as queries, got {tuple(dims)}'
            )
        self.img_size = img_size
        self.inner_size = inner_size
        self.embed_dims = embed_dims
        self.out_type = out_type
        self.freeze_ir50 = freeze_ir50
        self.freeze_landmark = freeze_landmark
        self.frozen_stats = frozen_stats

        # Two streams on the same inner_size face.
        self.ir50 = IR50(stage_channels=dims, init_cfg=ir50_init_cfg)
        self.landmark = MobileFaceNet(init_cfg=landmark_init_cfg)
        self.landmark_conv = nn.Conv2d(
            _LANDMARK_LAST_WIDTH, dims[2], 3, padding=1
        )
        self.image_convs = nn.ModuleList(
            nn.Conv2d(d, d, 3, stride=2, padding=1) for d in dims
        )
        self.fusion_blocks = nn.ModuleList(
            WindowCrossAttentionBlock(
                d,
                h,
                w,
                mlp_ratio=mlp_ratio,
                drop_path_rate=dp,
                layer_scale_init_value=layer_scale_init_value,
            )
            for d, h, w, dp in zip(dims, num_heads, window_sizes, drop_path)
        )

        # Every scale becomes a (window_sizes[2])^2 grid of tokens.
        self.token_embeds = nn.ModuleList(
            [
                nn.Sequential(
                    nn.Conv2d(dims[0], embed_dims, 3, stride=2, padding=1),
                    nn.Conv2d(embed_dims, embed_dims, 3, stride=2, padding=1),
                ),
                nn.Conv2d(dims[1], embed_dims, 3, stride=2, padding=1),
                nn.Conv2d(dims[2], embed_dims, 1),
            ]
        )
        self.num_tokens = 3 * window_sizes[2] ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.num_tokens + 1, embed_dims)
        )
        vit_norm_cfg = dict(type='LN', eps=1e-6)
        self.layers = nn.ModuleList(
            TransformerEncoderLayer(
                embed_dims,
                vit_num_heads,
                int(embed_dims * mlp_ratio),
                qkv_bias=True,
                norm_cfg=vit_norm_cfg,
            )
            for _ in range(vit_depth)
        )
        self.final_norm = build_norm_layer(vit_norm_cfg, embed_dims)
        self.se = nn.Sequential(
            OrderedDict(
                fc1=nn.Linear(embed_dims, embed_dims),
                act=nn.ReLU(),
                fc2=nn.Linear(embed_dims, embed_dims),
                gate=nn.Sigmoid(),
            )
        )
        self._freeze_stages()

    def init_weights(self) -> None:
        """Initialise as the reference; the streams apply their own
        ``init_cfg`` (see ``ir50_init_cfg`` / ``landmark_init_cfg``)."""
        super().init_weights()
        if (
            isinstance(self.init_cfg, dict)
            and self.init_cfg.get('type') == 'Pretrained'
        ):
            return
        trunc_normal_(self.pos_embed, std=0.02)
        trunc_normal_(self.cls_token, std=0.02)
        for m in [*self.layers.modules(), *self.se.modules()]:
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)

    def _frozen_modules(self) -> Tuple[nn.Module, ...]:
        frozen = []
        if self.freeze_ir50:
            frozen.append(self.ir50)
        if self.freeze_landmark:
            frozen.append(self.landmark)
        return tuple(frozen)

    def _freeze_stages(self) -> None:
        for module in self._frozen_modules():
            if self.frozen_stats:
                module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'PosterV2':
        """Set train mode; with ``frozen_stats`` the frozen streams stay in
        eval mode (fixed BatchNorm statistics)."""
        super().train(mode)
        self._freeze_stages()
        return self

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Extract the embedding (and, optionally, the fused maps).

        Args:
            x (torch.Tensor): Images, (B, 3, H, W), normally 224x224.

        Returns:
            tuple[torch.Tensor]: ``(embedding,)`` or ``(fused_1, fused_2,
            fused_3, embedding)``, see ``out_type``.
        """
        x = F.interpolate(x, size=self.inner_size, mode='nearest')
        # A frozen stream needs no graph: nothing upstream of it trains. In
        # train mode (frozen_stats=False) its BatchNorms still use batch
        # statistics and update their running statistics, as the reference.
        with torch.no_grad() if self.freeze_landmark else nullcontext():
            queries = list(self.landmark(x))
        queries[2] = self.landmark_conv(queries[2])
        with torch.no_grad() if self.freeze_ir50 else nullcontext():
            img_feats = self.ir50(x)

        fused = tuple(
            block(conv(feat), query)
            for conv, block, feat, query in zip(
                self.image_convs, self.fusion_blocks, img_feats, queries
            )
        )
        tokens = [
            embed(f).flatten(2).transpose(1, 2)
            for embed, f in zip(self.token_embeds, fused)
        ]
        cls_token = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls_token, *tokens], dim=1) + self.pos_embed
        for layer in self.layers:
            x = layer(x)
        cls = self.final_norm(x[:, 0])
        embedding = cls * self.se(cls)
        if self.out_type == 'multiscale':
            return (*fused, embedding)
        return (embedding,)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The affinity loss of DAN.

`Distract Your Attention: Multi-head Cross Attention Network for Facial
Expression Recognition <https://arxiv.org/abs/2109.07270>`_.
"""

from typing import Optional

import torch
import torch.nn as nn
from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS

_REDUCTIONS = ('none', 'mean', 'sum')


def affinity_loss(
    feats: torch.Tensor,
    labels: torch.Tensor,
    centers: torch.Tensor,
    weight: Optional[torch.Tensor] = None,
    reduction: str = 'mean',
    avg_factor: Optional[float] = None,
) -> torch.Tensor:
    r"""Affinity loss: distance to the class centre over the centres' spread.

    .. math::

        L_{af} = \frac{1}{B} \sum_{i=1}^{B}
            \frac{\lVert x_i - c_{y_i} \rVert_2^2}
                 {\sum_{d} \mathrm{Var}_k(c_{k,d})}

    where :math:`\mathrm{Var}_k` is the unbiased variance over the classes
    (rows of ``centers``), summed over the feature dimensions. The reference
    code computes the distance through the expansion
    :math:`\lVert x\rVert^2 + \lVert c\rVert^2 - 2 x \cdot c` and clamps it to
    ``[1e-12, 1e12]``; here the squared difference is summed directly (it is
    never negative), which differs from it by less than ``1e-11``.

    Args:
        feats (torch.Tensor): Features :math:`x`, shape ``(B, D)``.
        labels (torch.Tensor): Class indices :math:`y`, shape ``(B, )``.
        centers (torch.Tensor): Class centres :math:`c`, shape ``(K, D)``
            with ``K >= 2``.
        weight (torch.Tensor, optional): Sample-wise weights, shape
            ``(B, )``. Defaults to None.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        avg_factor (float, optional): Divide the sum by this instead of ``B``
            when ``reduction='mean'``. Defaults to None.

    Returns:
        torch.Tensor: The loss; shape ``(B, )`` for ``reduction='none'``,
        otherwise a scalar. An empty batch gives a zero scalar that depends
        on ``centers`` (so distributed training sees them used).
    """
    if feats.dim() != 2 or centers.dim() != 2:
        raise ValueError(
            'affinity_loss: feats must be (B, D) and centers (K, D), got '
            f'{tuple(feats.shape)} and {tuple(centers.shape)}'
        )
    if feats.size(1) != centers.size(1):
        raise ValueError(
            f'affinity_loss: feature width {feats.size(1)} differs from the '
            f'centre width {centers.size(1)}'
        )
    if labels.shape != feats.shape[:1]:
        raise ValueError(
            f'affinity_loss: expected {feats.size(0)} labels, got shape '
            f'{tuple(labels.shape)}'
        )
    if feats.size(0) == 0 and reduction != 'none':
        return centers.sum() * 0.0
    spread = centers.var(dim=0).sum()
    dist = (feats - centers[labels.long()]).pow(2).sum(dim=1) / spread
    if weight is not None:
        weight = weight.float()
    return weight_reduce_loss(dist, weight, reduction, avg_factor)


@MODELS.register_module()
class DANAffinityLoss(nn.Module):
    """Affinity loss of DAN, with its learnable class centres.

    `Distract Your Attention <https://arxiv.org/abs/2109.07270>`_: pulls the
    pooled backbone feature of each sample towards the centre of its class
    and divides by the spread of the centres (see :func:`affinity_loss`).
    The centres are an ``nn.Parameter`` initialised from ``N(0, 1)`` as in
    the reference; tune their learning rate or weight decay with
    ``paramwise_cfg.custom_keys={'affinity_loss.centers': ...}``.

    Args:
        num_classes (int): Number of centres (>= 2, the variance is taken
            over them).
        feat_dim (int): Width of the features and centres.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(
        self,
        num_classes: int,
        feat_dim: int,
        reduction: str = 'mean',
        loss_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if num_classes < 2:
            raise ValueError(
                f'DANAffinityLoss: num_classes must be >= 2, got {num_classes}'
            )
        if feat_dim < 1:
            raise ValueError(
                f'DANAffinityLoss: feat_dim must be >= 1, got {feat_dim}'
            )
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f'DANAffinityLoss: reduction must be one of {_REDUCTIONS}, got '
                f'{reduction!r}'
            )
        self.num_classes = num_classes
        self.feat_dim = feat_dim
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.centers = nn.Parameter(torch.randn(num_classes, feat_dim))

    def forward(
        self,
        feats: torch.Tensor,
        labels: torch.Tensor,
        weight: Optional[torch.Tensor] = None,
        avg_factor: Optional[float] = None,
        reduction_override: Optional[str] = None,
    ) -> torch.Tensor:
        """Compute the weighted affinity loss.

        Args:
            feats (torch.Tensor): Features, shape ``(B, feat_dim)``.
            labels (torch.Tensor): Class indices, shape ``(B, )``.
            weight (torch.Tensor, optional): Sample-wise weights.
                Defaults to None.
            avg_factor (float, optional): See :func:`affinity_loss`.
                Defaults to None.
            reduction_override (str, optional): Overrides ``reduction``.
                Defaults to None.

        Returns:
            torch.Tensor: The loss.
        """
        if reduction_override not in (None, *_REDUCTIONS):
            raise ValueError(
                f'DANAffinityLoss: bad reduction_override {reduction_override!r}'
            )
        reduction = reduction_override or self.reduction
        return self.loss_weight * affinity_loss(
            feats,
            labels,
            self.centers,
            weight=weight,
            reduction=reduction,
            avg_factor=avg_factor,
        )

    def extra_repr(self) -> str:
        return (
            f'num_classes={self.num_classes}, feat_dim={self.feat_dim}, '
            f'reduction={self.reduction!r}, loss_weight={self.loss_weight}'
        )

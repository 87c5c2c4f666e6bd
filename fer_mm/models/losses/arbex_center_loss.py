# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Center loss of ARBEx (https://arxiv.org/abs/2305.01486).

The paper's equations were lost in its text extraction; the forms below
follow the public reference implementation (GitHub ``takihasan/ARBEx``,
``arbex/loss.py`` and ``arbex/train.py``) except where stated.
"""

import math
from typing import Optional

import torch
import torch.nn as nn
from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS

from .utils import check_reduction


def arbex_center_loss(
    distances: torch.Tensor,
    label: torch.Tensor,
    embed_dims: int,
    confidence: Optional[torch.Tensor] = None,
    weight: Optional[torch.Tensor] = None,
    reduction: str = 'mean',
    avg_factor: Optional[float] = None,
) -> torch.Tensor:
    r"""Center loss: pull each embedding to its class's nearest anchor.

    .. math::
        L = \frac{1}{B} \sum_b c(p_b)\,
            \frac{\min_k d_{b, y_b, k}}{\sqrt D}

    An empty batch gives a zero loss (not NaN).

    Args:
        distances (torch.Tensor): Embedding-anchor distances ``(B, C, K)``.
        label (torch.Tensor): Hard labels ``(B, )``.
        embed_dims (int): :math:`D`, the embedding size.
        confidence (torch.Tensor, optional): :math:`c(p_b)`, shape
            ``(B, )``. Defaults to None (all ones).
        weight (torch.Tensor, optional): Per-sample weights ``(B, )``.
            Defaults to None.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        avg_factor (float, optional): Denominator of the mean.
            Defaults to None.

    Returns:
        torch.Tensor: The loss.
    """
    label = label.long().view(-1)
    rows = torch.arange(label.numel(), device=distances.device)
    loss = distances[rows, label].min(-1).values / math.sqrt(embed_dims)
    if confidence is not None:
        loss = loss * confidence.to(loss).view(-1)
    if loss.numel() == 0 and reduction != 'none':
        return loss.sum()
    if weight is not None:
        weight = weight.to(loss).view(-1)
    return weight_reduce_loss(loss, weight, reduction, avg_factor)


@MODELS.register_module()
class ARBExCenterLoss(nn.Module):
    """ARBEx center loss (embeddings to their class's nearest anchor).

    See :func:`arbex_center_loss`. As in the reference, the confidence
    :math:`c(p_b)` is *not* detached by default: the gradient also reaches
    the primary classifier through it. Paper:
    `ARBEx <https://arxiv.org/abs/2305.01486>`_.

    Args:
        detach_confidence (bool): Stop the gradient through the confidence.
            Defaults to False (reference behaviour).
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(
        self,
        detach_confidence: bool = False,
        reduction: str = 'mean',
        loss_weight: float = 1.0,
    ):
        super().__init__()
        check_reduction('ARBExCenterLoss', reduction)
        self.detach_confidence = detach_confidence
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(
        self,
        distances: torch.Tensor,
        label: torch.Tensor,
        embed_dims: int,
        confidence: Optional[torch.Tensor] = None,
        weight: Optional[torch.Tensor] = None,
        avg_factor: Optional[float] = None,
        reduction_override: Optional[str] = None,
    ) -> torch.Tensor:
        """Compute the loss.

        Args:
            distances (torch.Tensor): Distances ``(B, C, K)``.
            label (torch.Tensor): Hard labels ``(B, )``.
            embed_dims (int): Embedding size :math:`D`.
            confidence (torch.Tensor, optional): :math:`c(p_b)` ``(B, )``.
                Defaults to None.
            weight (torch.Tensor, optional): Per-sample weights ``(B, )``.
                Defaults to None.
            avg_factor (float, optional): Denominator of the mean.
                Defaults to None.
            reduction_override (str, optional): Overrides ``reduction``.
                Defaults to None.

        Returns:
            torch.Tensor: The loss.
        """
        if confidence is not None and self.detach_confidence:
            confidence = confidence.detach()
        reduction = reduction_override or self.reduction
        return self.loss_weight * arbex_center_loss(
            distances,
            label,
            embed_dims,
            confidence,
            weight,
            reduction,
            avg_factor,
        )

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Anchor loss of ARBEx (https://arxiv.org/abs/2305.01486).

The paper's equations were lost in its text extraction; the forms below
follow the public reference implementation (GitHub ``takihasan/ARBEx``,
``arbex/loss.py`` and ``arbex/train.py``) except where stated.
"""

import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from .utils import check_reduction


def anchor_loss(
    anchors: torch.Tensor,
    mode: str = 'margin',
    margin: float = 1.0,
    reduction: str = 'mean',
) -> torch.Tensor:
    r"""Anchor loss: keep the anchors of different classes apart.

    ``anchors`` has shape ``(C, K, D)``.

    * ``'margin'`` (default): a squared hinge on the RMS-normalised
      distance of every pair of anchors of *different* classes,

      .. math::
          l_{(i,k),(j,l)} = \max\left(0,\ m -
              \frac{\lVert A_{i,k} - A_{j,l}\rVert_2}{\sqrt D}\right)^2,
          \quad i \ne j

      ``'mean'`` averages over the :math:`C (C-1) K^2` ordered pairs. It
      lies in :math:`[0, m^2]`; once two classes are :math:`m` apart they
      no longer move, so it cannot run away like the reference form. Being
      a function of the distance (not its square), its gradient on a pair
      inside the margin has norm :math:`2 (m - d) / \sqrt D` however close
      the anchors start, so nearly coincident anchors are pushed apart at
      once. (No isotropic pairwise loss, the reference included, has a
      gradient at *exactly* equal anchors: it is a symmetric critical
      point; the head therefore draws its anchors at random.)
    * ``'reference'``: the reference implementation's form,

      .. math::
          L = -\frac{1}{K^2} \sum_{i,j}
              \frac{\lVert vec(A_i) - vec(A_j)\rVert_2^2}{\sqrt D}

      (anchor :math:`k` of class :math:`i` is compared with anchor
      :math:`k` of class :math:`j`). It is unbounded below and its gradient
      is zero when all anchors are equal (the reference initialises them at
      zero). ``'mean'`` returns :math:`L` (normalised by :math:`K^2` as in
      the reference); ``'none'`` the ``(C, C)`` terms before the sum and
      the :math:`1/K^2`.

    Args:
        anchors (torch.Tensor): Anchors ``(C, K, D)``.
        mode (str): ``'margin'`` or ``'reference'``. Defaults to
            ``'margin'``.
        margin (float): :math:`m`, in units of the RMS per-coordinate
            distance (``'margin'`` mode). Defaults to 1.0.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.

    Returns:
        torch.Tensor: The loss.
    """
    num_classes, num_anchors, dims = anchors.shape
    if mode == 'reference':
        flat = anchors.reshape(num_classes, -1)
        terms = -(flat[:, None] - flat[None]).pow(2).sum(-1) / math.sqrt(dims)
        count = num_anchors**2
    elif mode == 'margin':
        flat = anchors.reshape(num_classes * num_anchors, dims)
        sq = (flat[:, None] - flat[None]).pow(2).sum(-1)
        # The clamp keeps the gradient finite (zero) at coinciding anchors.
        dist = sq.clamp_min(1e-12).sqrt() / math.sqrt(dims)
        terms = F.relu(margin - dist).pow(2)
        terms = terms.view(num_classes, num_anchors, num_classes, num_anchors)
        other = ~torch.eye(
            num_classes, dtype=torch.bool, device=anchors.device
        )
        terms = terms * other[:, None, :, None].to(terms.dtype)
        count = num_classes * (num_classes - 1) * num_anchors**2
    else:
        raise ValueError(
            f"anchor_loss: mode must be 'margin' or 'reference', got {mode!r}"
        )
    if reduction == 'none':
        return terms
    if reduction == 'sum':
        return terms.sum()
    if reduction == 'mean':
        return terms.sum() / max(count, 1)
    raise ValueError(f'anchor_loss: unknown reduction {reduction!r}')


@MODELS.register_module()
class ARBExAnchorLoss(nn.Module):
    """ARBEx anchor loss (anchors of different classes apart).

    See :func:`anchor_loss` for both forms and why the bounded ``'margin'``
    form is the default. Paper: `ARBEx <https://arxiv.org/abs/2305.01486>`_.

    Args:
        mode (str): ``'margin'`` (bounded, default) or ``'reference'``.
            Defaults to ``'margin'``.
        margin (float): Margin in RMS per-coordinate distance units.
            Defaults to 1.0.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    MODES = ('margin', 'reference')

    def __init__(
        self,
        mode: str = 'margin',
        margin: float = 1.0,
        reduction: str = 'mean',
        loss_weight: float = 1.0,
    ):
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(
                f'ARBExAnchorLoss: mode must be one of {self.MODES}, got {mode!r}'
            )
        if not margin > 0:
            raise ValueError(
                f'ARBExAnchorLoss: margin must be > 0, got {margin}'
            )
        check_reduction('ARBExAnchorLoss', reduction)
        self.mode = mode
        self.margin = margin
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(
        self, anchors: torch.Tensor, reduction_override: Optional[str] = None
    ) -> torch.Tensor:
        """Compute the loss of anchors ``(C, K, D)``."""
        reduction = reduction_override or self.reduction
        return self.loss_weight * anchor_loss(
            anchors, self.mode, self.margin, reduction
        )

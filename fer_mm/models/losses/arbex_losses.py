# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Losses of ARBEx (https://arxiv.org/abs/2305.01486).

The paper's equations were lost in its text extraction; the forms below
follow the public reference implementation (GitHub ``takihasan/ARBEx``,
``arbex/loss.py`` and ``arbex/train.py``) except where stated.
"""

import math
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS


def arbex_class_loss(
    probs: torch.Tensor,
    target: torch.Tensor,
    class_weight: Optional[torch.Tensor] = None,
    weight: Optional[torch.Tensor] = None,
    reduction: str = 'mean',
    avg_factor: Optional[float] = None,
    eps: float = 1e-12,
) -> torch.Tensor:
    r"""Class-weighted NLL of a probability distribution.

    With targets :math:`y_b` (hard labels, or soft label vectors for
    batch-mixed samples), class weights :math:`w_c` and per-sample weights
    :math:`\omega_b`:

    .. math::
        l_b = -\sum_c y_{b,c}\, w_c \log \hat p_{b,c}, \qquad
        L = \frac{\sum_b \omega_b\, l_b}{\sum_b \sum_c y_{b,c}\, w_c}

    For hard labels and no :math:`\omega` this is exactly
    ``torch.nn.NLLLoss(weight=w)(log(p_hat), y)`` (the reference's
    ``DistLoss``): a mean weighted by :math:`w_{y_b}`. The denominator only
    counts class-weight mass, so per-sample weights act like mmpretrain's
    ``mean(weight * loss)``: with uniform class weights
    :math:`L = \frac{1}{B}\sum_b \omega_b l_b`, which is what MixAugment's
    weights are built for.

    Args:
        probs (torch.Tensor): Probabilities ``(B, C)`` (not logits).
        target (torch.Tensor): Hard labels ``(B, )`` or soft labels
            ``(B, C)``.
        class_weight (torch.Tensor, optional): Class weights ``(C, )``.
            Defaults to None (uniform).
        weight (torch.Tensor, optional): Per-sample weights ``(B, )``.
            Defaults to None.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        avg_factor (float, optional): Denominator of the mean. Defaults to
            None (the class-weight mass above).
        eps (float): Probabilities are clamped to at least ``eps`` before the
            log (float underflow guard). Defaults to 1e-12.

    Returns:
        torch.Tensor: The loss.
    """
    log_p = probs.clamp_min(eps).log()
    if target.dim() == 1:
        target = F.one_hot(target.long(), probs.size(-1))
    target = target.to(log_p.dtype)
    if class_weight is not None:
        target = target * class_weight.to(log_p).view(1, -1)
    loss = -(target * log_p).sum(-1)
    if reduction == 'mean' and avg_factor is None:
        avg_factor = target.sum().clamp_min(eps)
    if weight is not None:
        weight = weight.to(loss).view(-1)
    return weight_reduce_loss(loss, weight, reduction, avg_factor)


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
class ARBExClassLoss(nn.Module):
    """Class-weighted NLL of ARBEx's corrected distribution.

    See :func:`arbex_class_loss` (hard and soft labels, per-sample weights).
    Paper: `ARBEx <https://arxiv.org/abs/2305.01486>`_.

    Args:
        class_weight (Sequence[float], optional): Class weights
            :math:`w_c = (N / C) / n_c`. Defaults to None (uniform).
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        eps (float): Lower clamp of the probabilities before the log.
            Defaults to 1e-12.
    """

    def __init__(
        self,
        class_weight: Optional[Sequence[float]] = None,
        reduction: str = 'mean',
        loss_weight: float = 1.0,
        eps: float = 1e-12,
    ):
        super().__init__()
        _check_reduction('ARBExClassLoss', reduction)
        if class_weight is not None:
            class_weight = torch.as_tensor(class_weight, dtype=torch.float)
            if class_weight.dim() != 1 or (class_weight < 0).any():
                raise ValueError(
                    'ARBExClassLoss: class_weight must be a '
                    'list of non-negative numbers'
                )
        self.register_buffer('class_weight', class_weight, persistent=False)
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.eps = eps

    def forward(
        self,
        probs: torch.Tensor,
        target: torch.Tensor,
        weight: Optional[torch.Tensor] = None,
        avg_factor: Optional[float] = None,
        reduction_override: Optional[str] = None,
    ) -> torch.Tensor:
        """Compute the loss.

        Args:
            probs (torch.Tensor): Probabilities ``(B, C)``.
            target (torch.Tensor): Hard ``(B, )`` or soft ``(B, C)`` labels.
            weight (torch.Tensor, optional): Per-sample weights ``(B, )``.
                Defaults to None.
            avg_factor (float, optional): Denominator of the mean.
                Defaults to None.
            reduction_override (str, optional): Overrides ``reduction``.
                Defaults to None.

        Returns:
            torch.Tensor: The loss.
        """
        if (
            self.class_weight is not None
            and self.class_weight.numel() != probs.size(-1)
        ):
            raise ValueError(
                f'ARBExClassLoss: {self.class_weight.numel()} class weights '
                f'for {probs.size(-1)} classes'
            )
        reduction = reduction_override or self.reduction
        return self.loss_weight * arbex_class_loss(
            probs,
            target,
            self.class_weight,
            weight,
            reduction,
            avg_factor,
            self.eps,
        )


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
        _check_reduction('ARBExAnchorLoss', reduction)
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
        _check_reduction('ARBExCenterLoss', reduction)
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


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(
            f"{name}: reduction must be 'none', 'mean' or "
            f"'sum', got {reduction!r}"
        )

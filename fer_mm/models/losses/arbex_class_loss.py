# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Class loss of ARBEx (https://arxiv.org/abs/2305.01486).

The paper's equations were lost in its text extraction; the forms below
follow the public reference implementation (GitHub ``takihasan/ARBEx``,
``arbex/loss.py`` and ``arbex/train.py``) except where stated.
"""

from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.losses.utils import weight_reduce_loss
from mmpretrain.registry import MODELS

from .utils import check_reduction


def arbex_class_loss(
    probs: torch.Tensor,
    target: torch.Tensor,
    class_weight: Optional[torch.Tensor] = None,
    weight: Optional[torch.Tensor] = None,
    reduction: str = 'mean',
    avg_factor: Optional[float] = None,
    eps: Optional[float] = None,
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
        eps (float, optional): Clamp probabilities to at least ``eps``
            before the log (an underflow guard, e.g. 1e-12: a probability
            of 0 then costs :math:`-\log \epsilon` instead of infinity).
            Defaults to None: the log is taken unguarded, as the
            reference's ``DistLoss`` does.

    Returns:
        torch.Tensor: The loss.
    """
    log_p = (probs if eps is None else probs.clamp_min(eps)).log()
    if target.dim() == 1:
        target = F.one_hot(target.long(), probs.size(-1))
    target = target.to(log_p.dtype)
    if class_weight is not None:
        target = target * class_weight.to(log_p).view(1, -1)
    loss = -(target * log_p).sum(-1)
    if reduction == 'mean' and avg_factor is None:
        # all-zero class-weight mass: 0 instead of NaN
        avg_factor = target.sum().clamp_min(torch.finfo(log_p.dtype).tiny)
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
        eps (float, optional): Lower clamp of the probabilities before the
            log (e.g. 1e-12). Defaults to None: unguarded, the reference's
            ``torch.log``.
    """

    def __init__(
        self,
        class_weight: Optional[Sequence[float]] = None,
        reduction: str = 'mean',
        loss_weight: float = 1.0,
        eps: Optional[float] = None,
    ):
        super().__init__()
        check_reduction('ARBExClassLoss', reduction)
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

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Landmark regression loss and class weights of the LSD multi-task model.

Jeong et al., "Learning from Synthetic Data: Facial Expression
Classification based on Ensemble of Multi-task Networks", ECCV 2022
Workshops (ABAW4).
"""

from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS

_REDUCTIONS = ('none', 'mean', 'sum')


def landmark_mse_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    valid: Optional[torch.Tensor] = None,
    point_weight: Optional[torch.Tensor] = None,
    reduction: str = 'mean',
) -> torch.Tensor:
    r"""Masked, point-weighted mean squared error on landmarks.

    For sample :math:`i` with points :math:`p_{ik}, t_{ik} \in R^2`
    (normalised to the image size) and point weights :math:`w_k`:

    .. math::

        \ell_i = \frac{\sum_k w_k \lVert p_{ik} - t_{ik} \rVert^2 / 2}
                      {\sum_k w_k}

    (with all :math:`w_k = 1`, the mean over the ``2K`` coordinates). The
    ``'mean'`` reduction averages :math:`\ell_i` over the *valid* samples
    only, :math:`\sum_i v_i \ell_i / \sum_i v_i`: a sample without landmarks
    (``valid`` False) adds nothing, it is not compared with zeros. With no
    valid sample the loss is a zero that stays in the graph of ``pred``.

    Args:
        pred (torch.Tensor): Predictions ``(B, K, 2)``.
        target (torch.Tensor): Targets ``(B, K, 2)``; rows of invalid samples
            are ignored (any value).
        valid (torch.Tensor, optional): ``(B, )`` bool mask. Defaults to None
            (all valid).
        point_weight (torch.Tensor, optional): ``(K, )`` weights.
            Defaults to None (equal).
        reduction (str): ``'none'`` (``(B, )``, 0 for invalid samples),
            ``'mean'`` or ``'sum'`` (over valid samples). Defaults to
            ``'mean'``.

    Returns:
        torch.Tensor: The loss.
    """
    if pred.shape != target.shape or pred.dim() != 3 or pred.size(-1) != 2:
        raise ValueError(
            'landmark_mse_loss: pred and target must both be (B, K, 2), got '
            f'{tuple(pred.shape)} and {tuple(target.shape)}'
        )
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f'landmark_mse_loss: reduction must be one of {_REDUCTIONS}, '
            f'got {reduction!r}'
        )
    if valid is None:
        valid = torch.ones(pred.size(0), dtype=torch.bool, device=pred.device)
    valid = valid.to(pred.device).bool().view(-1)
    if valid.numel() != pred.size(0):
        raise ValueError(
            f'landmark_mse_loss: expected {pred.size(0)} mask values, got '
            f'{valid.numel()}'
        )
    target = torch.where(valid[:, None, None], target.to(pred), pred.detach())
    per_point = (pred - target).pow(2).mean(dim=-1)  # (B, K)
    if point_weight is None:
        per_sample = per_point.mean(dim=1)
    else:
        w = point_weight.to(pred).view(1, -1)
        if w.size(1) != pred.size(1):
            raise ValueError(
                f'landmark_mse_loss: {w.size(1)} point weights for '
                f'{pred.size(1)} points'
            )
        per_sample = (per_point * w).sum(dim=1) / w.sum()
    per_sample = per_sample * valid.to(per_sample.dtype)
    if reduction == 'none':
        return per_sample
    if reduction == 'sum':
        return per_sample.sum()
    return per_sample.sum() / valid.sum().clamp(min=1).to(per_sample.dtype)


@MODELS.register_module()
class LSDLandmarkMSELoss(nn.Module):
    """Masked, point-weighted MSE on normalised landmarks.

    See :func:`landmark_mse_loss`. Used by
    :class:`fer_mm.models.LSDMultiTaskHead` for the appearance branch.

    Args:
        point_weight (Sequence[float], optional): One weight per landmark.
            Defaults to None (equal weights).
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(
        self,
        point_weight: Optional[Sequence[float]] = None,
        reduction: str = 'mean',
        loss_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f'LSDLandmarkMSELoss: reduction must be one of {_REDUCTIONS}, '
                f'got {reduction!r}'
            )
        self.reduction = reduction
        self.loss_weight = loss_weight
        if point_weight is not None:
            point_weight = torch.as_tensor(point_weight, dtype=torch.float32)
            if point_weight.dim() != 1 or (point_weight < 0).any():
                raise ValueError(
                    'LSDLandmarkMSELoss: point_weight must be a list of '
                    'non-negative numbers'
                )
        self.register_buffer('point_weight', point_weight, persistent=False)

    def forward(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        valid: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """Compute the weighted loss (see :func:`landmark_mse_loss`)."""
        return self.loss_weight * landmark_mse_loss(
            pred, target, valid, self.point_weight, self.reduction
        )

    def extra_repr(self) -> str:
        return f'reduction={self.reduction!r}, loss_weight={self.loss_weight}'


def class_weights_from_counts(
    counts: Sequence[int], power: float = 1.0
) -> list:
    r"""Cross-entropy class weights from class counts.

    :math:`w_c \propto n_c^{-p}`, scaled so that the count-weighted mean is
    1 (:math:`\sum_c n_c w_c = \sum_c n_c`): the loss keeps its scale and a
    balanced set gets all-ones. ``power=1`` is inverse frequency, ``0.5`` the
    square root of it. Pass the result as ``class_weight`` of mmpretrain's
    ``CrossEntropyLoss``.

    Args:
        counts (Sequence[int]): Training samples per class (all > 0).
        power (float): Exponent :math:`p`. Defaults to 1.0.

    Returns:
        list[float]: One weight per class.
    """
    n = torch.as_tensor(counts, dtype=torch.float64)
    if n.dim() != 1 or (n <= 0).any():
        raise ValueError(
            f'class_weights_from_counts: counts must be positive, got {counts}'
        )
    w = n.pow(-power)
    w = w * n.sum() / (n * w).sum()
    return w.tolist()

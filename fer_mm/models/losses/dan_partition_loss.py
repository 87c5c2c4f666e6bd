# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The partition loss of DAN.

`Distract Your Attention: Multi-head Cross Attention Network for Facial
Expression Recognition <https://arxiv.org/abs/2109.07270>`_.
"""

import sys

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS

#: The reference's epsilon (``sys.float_info.epsilon``, 2.22e-16).
REFERENCE_EPS = sys.float_info.epsilon


def partition_loss(
    heads: torch.Tensor, eps: float = REFERENCE_EPS
) -> torch.Tensor:
    r"""Partition loss: pushes the attention heads apart.

    .. math::

        L_{pt} = \log\left(1 + \frac{N}{\overline{\sigma^2} + \epsilon}\right)

    where :math:`N` is the number of heads and :math:`\overline{\sigma^2}`
    is the unbiased variance over the heads, averaged over the batch and the
    channels. DAN applies it to the heads after the log-softmax over the head
    dimension. The reference (``PartitionLoss`` in DAN's ``rafdb.py``) adds
    ``sys.float_info.epsilon``; a larger :math:`\epsilon` (e.g. 1e-8) bounds
    the loss when the heads collapse onto each other, and differs from the
    reference where the variance is small (at a variance of 1e-6 with 4
    heads by 0.01).

    Args:
        heads (torch.Tensor): Head outputs, shape ``(B, N, C)``.
        eps (float): Added to the variance. Defaults to
            ``sys.float_info.epsilon`` (the reference's).

    Returns:
        torch.Tensor: A scalar. With one head (no variance to speak of) it is
        a zero tensor that stays in the graph of ``heads``.
    """
    if heads.dim() != 3:
        raise ValueError(
            'partition_loss: heads must be (B, num_heads, C), got shape '
            f'{tuple(heads.shape)}'
        )
    num_heads = heads.size(1)
    if num_heads < 2:
        return heads.sum() * 0.0
    var = heads.var(dim=1).mean()
    return torch.log1p(num_heads / (var + eps))


@MODELS.register_module()
class DANPartitionLoss(nn.Module):
    """Partition loss of DAN.

    `Distract Your Attention <https://arxiv.org/abs/2109.07270>`_: maximises
    the variance between the attention heads (see :func:`partition_loss`).
    It is a statistic of the whole batch, so it has no per-sample reduction
    or weights.

    Args:
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
        eps (float): Added to the variance. Defaults to
            ``sys.float_info.epsilon`` (the reference's).
    """

    def __init__(
        self, loss_weight: float = 1.0, eps: float = REFERENCE_EPS
    ) -> None:
        super().__init__()
        if eps < 0:
            raise ValueError(f'DANPartitionLoss: eps must be >= 0, got {eps}')
        self.loss_weight = loss_weight
        self.eps = eps

    def forward(self, heads: torch.Tensor) -> torch.Tensor:
        """Compute the weighted partition loss.

        Args:
            heads (torch.Tensor): Head outputs after the log-softmax over the
                heads, shape ``(B, num_heads, C)``.

        Returns:
            torch.Tensor: A scalar.
        """
        return self.loss_weight * partition_loss(heads, eps=self.eps)

    def extra_repr(self) -> str:
        return f'loss_weight={self.loss_weight}, eps={self.eps}'

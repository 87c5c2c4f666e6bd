# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""KL divergence of a diagonal Gaussian from N(0, I), with a warm-up."""

import torch.nn as nn
from mmagic.registry import MODELS
from torch import Tensor

_REDUCTIONS = ('mean', 'batchmean', 'sum', 'none')


def gaussian_kl_divergence(
    mu: Tensor, logvar: Tensor, reduction: str = 'mean'
) -> Tensor:
    r"""KL(N(mu, sigma^2) || N(0, I)) of diagonal Gaussians.

    Element-wise :math:`\frac{1}{2}(\mu^2 + \sigma^2 - \log\sigma^2 - 1)`
    (eq. 2 of `Semantic Data Augmentation for Long-tailed Facial Expression
    Recognition <https://arxiv.org/abs/2411.17254>`_).

    Args:
        mu (Tensor): Means, shape (N, D).
        logvar (Tensor): Log-variances :math:`\log\sigma^2`, shape (N, D).
        reduction (str): ``'mean'`` (over all elements), ``'batchmean'``
            (sum over D, mean over N: the KL per sample), ``'sum'`` or
            ``'none'``. Defaults to ``'mean'``.

    Returns:
        Tensor: The reduced divergence (element-wise for ``'none'``).
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f'reduction must be one of {_REDUCTIONS}, got {reduction!r}'
        )
    if mu.shape != logvar.shape:
        raise ValueError(
            f'mu and logvar must have the same shape, got {tuple(mu.shape)} '
            f'and {tuple(logvar.shape)}'
        )
    kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1)
    if reduction == 'mean':
        return kl.mean()
    if reduction == 'batchmean':
        return kl.sum() / mu.shape[0]
    if reduction == 'sum':
        return kl.sum()
    return kl


@MODELS.register_module()
class GaussianKLLoss(nn.Module):
    """KL loss of a VAE encoder with a linear warm-up of its weight.

    Against KL vanishing the weight grows linearly from 0 to ``loss_weight``
    (the paper: "from 0 to its maximum during the whole training process"):

    .. math::
        w(t) = w_{max} \\cdot \\mathrm{clip}\\left(
            \\frac{t - t_0}{T}, 0, 1\\right)

    with :math:`t` the training iteration, :math:`t_0` = ``warmup_start``
    and :math:`T` = ``warmup_iters`` (``warmup_iters=0`` gives the constant
    weight). Paper: `Semantic Data Augmentation for Long-tailed Facial
    Expression Recognition <https://arxiv.org/abs/2411.17254>`_.

    Args:
        loss_weight (float): Maximum weight :math:`w_{max}`. Defaults to 1.0.
        warmup_iters (int): Iterations of the linear ramp :math:`T`; set it
            to the training length to ramp over the whole run. Defaults to 0.
        warmup_start (int): Iteration where the ramp starts :math:`t_0`.
            Defaults to 0.
        reduction (str): See :func:`gaussian_kl_divergence`. Defaults to
            ``'mean'``.

    Examples:
        >>> kl = GaussianKLLoss(loss_weight=0.1, warmup_iters=100)
        >>> kl.weight_at(50)
        0.05
    """

    def __init__(
        self,
        loss_weight: float = 1.0,
        warmup_iters: int = 0,
        warmup_start: int = 0,
        reduction: str = 'mean',
    ) -> None:
        super().__init__()
        if warmup_iters < 0 or warmup_start < 0:
            raise ValueError(
                'warmup_iters and warmup_start must be >= 0, got '
                f'{warmup_iters} and {warmup_start}'
            )
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f'reduction must be one of {_REDUCTIONS}, got {reduction!r}'
            )
        self.loss_weight = float(loss_weight)
        self.warmup_iters = int(warmup_iters)
        self.warmup_start = int(warmup_start)
        self.reduction = reduction

    def weight_at(self, iteration: int) -> float:
        """The KL weight at a (0-based) training iteration."""
        if self.warmup_iters == 0:
            return self.loss_weight if iteration >= self.warmup_start else 0.0
        progress = (iteration - self.warmup_start) / self.warmup_iters
        return self.loss_weight * min(max(progress, 0.0), 1.0)

    def forward(self, mu: Tensor, logvar: Tensor, iteration: int) -> Tensor:
        """Weighted KL divergence at ``iteration``.

        Args:
            mu (Tensor): Means, shape (N, D).
            logvar (Tensor): Log-variances, shape (N, D).
            iteration (int): Current training iteration (0-based).

        Returns:
            Tensor: ``weight_at(iteration) * KL``.
        """
        kl = gaussian_kl_divergence(mu, logvar, self.reduction)
        return self.weight_at(iteration) * kl

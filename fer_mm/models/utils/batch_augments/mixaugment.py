# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
from typing import Dict, Tuple

import numpy as np
import torch
from mmpretrain.registry import BATCH_AUGMENTS


@BATCH_AUGMENTS.register_module()
class MixAugment:
    r"""MixAugment: train on virtual (mixed) AND real examples at once.

    Paper: `MixAugment & Mixup: Augmentation Methods for Facial Expression
    Recognition <https://arxiv.org/abs/2205.04442>`_ (CVPRW 2022).

    One :math:`\lambda \sim \mathrm{Beta}(\alpha, \alpha)` per batch mixes
    pairs :math:`(x_i, x_j)` into :math:`\tilde x = \lambda x_i +
    (1 - \lambda) x_j`, :math:`\tilde y = \lambda y_i + (1 - \lambda) y_j`,
    and the total loss is the paper's eq. 3:

    .. math::
        L = CE(f(\tilde x), \tilde y) + CE(f(x_i), y_i) + CE(f(x_j), y_j)

    where each term is a mean over its samples. Two pairings:

    * ``'permute'`` (default): :math:`x_j` is a random permutation of the
      batch. Both real terms are then means over the same batch, so
      :math:`L = \overline{CE}_{mix} + 2\,\overline{CE}_{real}` on a forward
      pass of 2B images ``[mixed; real]``.
    * ``'independent'``: :math:`x_i` and :math:`x_j` are the two halves of
      the loaded batch (two independently drawn batches of B = N // 2), the
      forward pass is ``[mixed (B); x_i (B); x_j (B)]`` = 3B images. With an
      odd N the unpaired last image joins the real samples (then the real
      term is 2 x the mean over all N real images, which equals eq. 3 for an
      even N).

    Real and virtual samples keep their own labels: the returned scores hold
    the mixed soft labels followed by the real one-hot labels, and the
    per-sample weights make ``mean(weight * CE)`` over the enlarged batch
    equal eq. 3 (mixed: T / M, real: 2T / N for M mixed, N real, T = M + N).

    Because it returns more images than it received, MixAugment must run in
    :class:`fer_mm.models.FERDataPreprocessor` (which creates the extra data
    samples and their weights) and be used with
    :class:`fer_mm.models.FERClassifier` (which passes the weights to the
    head); mmpretrain's ``ClsDataPreprocessor`` would silently drop the
    extra labels, so calling it the stock way raises an error.

    Args:
        alpha (float): Beta distribution parameter. Defaults to 0.1 (the
            paper's best).
        mode (str): ``'permute'`` or ``'independent'``.
            Defaults to ``'permute'``.
        real_weight (float): Weight ``w`` of each real term, ``L = CE_mix +
            w (CE(x_i) + CE(x_j))``. Defaults to 1.0, the paper's eq. 3; an
            option for the ablation of the real terms (0 trains on the mixed
            images only, as Mixup, at MixAugment's forward cost).
    """

    MODES = ('permute', 'independent')

    def __init__(
        self,
        alpha: float = 0.1,
        mode: str = 'permute',
        real_weight: float = 1.0,
    ):
        if not (isinstance(alpha, (int, float)) and alpha > 0):
            raise ValueError(f'MixAugment: alpha must be > 0, got {alpha!r}')
        if mode not in self.MODES:
            raise ValueError(
                f'MixAugment: mode must be one of {self.MODES}, got {mode!r}'
            )
        if not (isinstance(real_weight, (int, float)) and real_weight >= 0):
            raise ValueError(
                f'MixAugment: real_weight must be >= 0, got {real_weight!r}'
            )
        self.alpha = float(alpha)
        self.mode = mode
        self.real_weight = float(real_weight)

    def expand(
        self, inputs: torch.Tensor, scores: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, Dict[str, torch.Tensor]]:
        """Build the enlarged batch.

        Args:
            inputs (torch.Tensor): Images ``(N, C, H, W)``.
            scores (torch.Tensor): One-hot / soft labels ``(N, K)``.

        Returns:
            tuple: ``inputs`` (T, C, H, W), ``scores`` (T, K) and a dict with
            ``weight`` (T,), ``is_real`` (T,) bool and ``source`` (T,): the
            index in the loaded batch of each real sample, -1 for mixed ones.
            Mixed samples come first.
        """
        n = inputs.size(0)
        lam = float(np.random.beta(self.alpha, self.alpha))
        scores = scores.float()
        if self.mode == 'permute':
            idx_i = torch.arange(n)
            idx_j = torch.randperm(n)
        else:
            if n < 2:
                raise ValueError(
                    'MixAugment(mode=independent) needs a batch '
                    f'of at least 2 images, got {n}'
                )
            half = n // 2
            idx_i = torch.arange(half)
            idx_j = torch.arange(half, 2 * half)
        idx_i = idx_i.to(inputs.device)
        idx_j = idx_j.to(inputs.device)
        mixed = lam * inputs[idx_i] + (1 - lam) * inputs[idx_j]
        mixed_scores = lam * scores[idx_i] + (1 - lam) * scores[idx_j]
        m = mixed.size(0)
        total = m + n
        weight = torch.cat(
            [
                torch.full((m,), total / m),
                torch.full((n,), 2 * self.real_weight * total / n),
            ]
        ).to(inputs.device)
        is_real = torch.cat(
            [torch.zeros(m, dtype=torch.bool), torch.ones(n, dtype=torch.bool)]
        ).to(inputs.device)
        source = torch.cat([torch.full((m,), -1), torch.arange(n)])
        info = dict(weight=weight, is_real=is_real, source=source, lam=lam)
        return (
            torch.cat([mixed, inputs]),
            torch.cat([mixed_scores, scores]),
            info,
        )

    def __call__(self, inputs: torch.Tensor, scores: torch.Tensor):
        raise RuntimeError(
            'MixAugment adds virtual samples to the batch; run it in '
            "data_preprocessor=dict(type='FERDataPreprocessor') with "
            "model type='FERClassifier' (mmpretrain's ClsDataPreprocessor "
            'would drop the extra labels)'
        )

    def __repr__(self) -> str:
        return (
            f'MixAugment(alpha={self.alpha}, mode={self.mode!r}, '
            f'real_weight={self.real_weight})'
        )

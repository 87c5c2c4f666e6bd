# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Class-covariance augmentation of latent codes (eq. 4 of the paper)."""

from typing import Dict, Optional

import torch
from torch import Tensor


def class_latent_statistics(
    codes: Tensor, labels: Tensor, num_classes: int
) -> Dict[str, Tensor]:
    """Per-class mean and covariance of latent codes.

    Args:
        codes (Tensor): Encodings, shape (N, D).
        labels (Tensor): Class indices in ``[0, num_classes)``, shape (N,).
        num_classes (int): Number of classes C.

    Returns:
        dict: ``mean`` (C, D), ``cov`` (C, D, D; the unbiased covariance,
        zero for classes with fewer than 2 codes) and ``count`` (C,).
    """
    if codes.ndim != 2 or labels.shape != codes.shape[:1]:
        raise ValueError(
            'codes must be (N, D) and labels (N,), got '
            f'{tuple(codes.shape)} and {tuple(labels.shape)}'
        )
    labels = labels.long()
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f'labels must lie in [0, {num_classes}), got '
            f'[{int(labels.min())}, {int(labels.max())}]'
        )
    codes = codes.double()
    dim = codes.shape[1]
    mean = codes.new_zeros(num_classes, dim)
    cov = codes.new_zeros(num_classes, dim, dim)
    count = torch.bincount(labels, minlength=num_classes)
    for c in range(num_classes):
        class_codes = codes[labels == c]
        if len(class_codes):
            mean[c] = class_codes.mean(0)
        if len(class_codes) >= 2:
            centred = class_codes - mean[c]
            cov[c] = centred.T @ centred / (len(class_codes) - 1)
    return dict(mean=mean.float(), cov=cov.float(), count=count)


class ClassCovarianceAugmenter:
    """Sample :math:`z' = \\mu(x) + k(s) \\cdot A_c r`, :math:`r \\sim N(0, I)`.

    The semantic augmentation of `Semantic Data Augmentation for Long-tailed
    Facial Expression Recognition <https://arxiv.org/abs/2411.17254>`_, eq. 4:
    :math:`z' = s\\Sigma_c \\circ r + E_\\mu(x) \\sim N(E_\\mu(x),
    s\\Sigma_c)`: the code of a sample of class :math:`c` moves along
    directions drawn from the covariance :math:`\\Sigma_c` of that class's
    encodings, so that only directions the class actually varies in are
    used. The strength :math:`s` scales the *covariance* (the distribution
    the paper states), so the step is multiplied by :math:`k(s) =
    \\sqrt{s}` (``scale='covariance'``, default); ``scale='std'`` reads
    :math:`s` as a multiplier of the step, :math:`k(s) = s`, i.e. covariance
    :math:`s^2 A_c A_c^T` (the other reading, an option). ``form`` chooses
    :math:`A_c`:

    - ``'diag'``: :math:`\\mathrm{diag}(\\sigma_c)`, the per-dimension
      standard deviations (``\\circ`` read element-wise, with
      :math:`\\Sigma_c` as its diagonal), so
      :math:`\\mathrm{Cov}(z') = s\\,\\mathrm{diag}(\\Sigma_c)`.
    - ``'full'``: the Cholesky factor :math:`L_c` of
      :math:`\\Sigma_c + \\epsilon I`, so
      :math:`\\mathrm{Cov}(z') = s \\Sigma_c` (correlated directions).
    - ``'diag_var'``: the variances :math:`\\mathrm{diag}(\\Sigma_c)` as
      :math:`A_c`; with ``scale='std'`` this is the left-hand side of eq. 4
      taken literally, :math:`\\mathrm{Cov}(z') = s^2
      \\mathrm{diag}(\\Sigma_c)^2`.

    Args:
        cov (Tensor): Class covariances, shape (C, D, D).
        count (Tensor): Codes per class, shape (C,); classes with fewer than
            2 cannot be augmented.
        strength (float): Augmentation strength :math:`s`. Defaults to 1.0.
        form (str): ``'diag'``, ``'full'`` or ``'diag_var'``. Defaults to
            ``'diag'``.
        scale (str): How :math:`s` enters: ``'covariance'`` (the paper's
            :math:`N(E_\\mu(x), s\\Sigma_c)`) or ``'std'``. Defaults to
            ``'covariance'``.
        jitter (float): :math:`\\epsilon` added to the diagonal before the
            Cholesky factorisation (a class with fewer codes than dimensions
            has a singular covariance); multiplied by 10 until it succeeds.
            Defaults to 1e-6.

    Examples:
        >>> stats = class_latent_statistics(mu, labels, num_classes=7)
        >>> aug = ClassCovarianceAugmenter(stats['cov'], stats['count'],
        ...                                strength=0.5, form='full')
        >>> z_new = aug.sample(mu[:8], labels[:8])
    """

    FORMS = ('diag', 'full', 'diag_var')
    SCALES = ('covariance', 'std')

    def __init__(
        self,
        cov: Tensor,
        count: Tensor,
        strength: float = 1.0,
        form: str = 'diag',
        jitter: float = 1e-6,
        scale: str = 'covariance',
    ) -> None:
        if form not in self.FORMS:
            raise ValueError(f'form must be one of {self.FORMS}, got {form!r}')
        if scale not in self.SCALES:
            raise ValueError(
                f'scale must be one of {self.SCALES}, got {scale!r}'
            )
        if cov.ndim != 3 or cov.shape[1] != cov.shape[2]:
            raise ValueError(f'cov must be (C, D, D), got {tuple(cov.shape)}')
        if strength < 0:
            raise ValueError(f'strength must be >= 0, got {strength}')
        self.form = form
        self.scale = scale
        self.strength = float(strength)
        #: multiplier of the step A_c r: sqrt(s) or s
        self.step_scale = (
            self.strength**0.5 if scale == 'covariance' else self.strength
        )
        self.count = count.long().cpu()
        variances = torch.diagonal(cov, dim1=1, dim2=2)
        if form == 'diag':
            self.factor = variances.clamp_min(0).sqrt()
        elif form == 'diag_var':
            self.factor = variances.clone()
        else:
            self.factor = torch.zeros_like(cov)
            eye = torch.eye(cov.shape[1], dtype=torch.float64)
            for c in range(cov.shape[0]):
                if self.count[c] >= 2:
                    self.factor[c] = self._cholesky(
                        cov[c].double(), eye, c, jitter
                    ).to(cov.dtype)

    @staticmethod
    def _cholesky(cov: Tensor, eye: Tensor, cls: int, jitter: float):
        for _ in range(8):
            factor, info = torch.linalg.cholesky_ex(cov + jitter * eye)
            if int(info) == 0:
                return factor
            jitter *= 10
        raise ValueError(
            f'class {cls}: covariance is not positive semi-definite '
            '(Cholesky failed)'
        )

    @classmethod
    def from_codes(
        cls, codes: Tensor, labels: Tensor, num_classes: int, **kwargs
    ) -> 'ClassCovarianceAugmenter':
        """Build from encodings and labels (see
        :func:`class_latent_statistics`); ``kwargs`` go to ``__init__``."""
        stats = class_latent_statistics(codes, labels, num_classes)
        return cls(stats['cov'], stats['count'], **kwargs)

    def sample(
        self,
        mu: Tensor,
        labels: Tensor,
        generator: Optional[torch.Generator] = None,
    ) -> Tensor:
        """Augmented codes for sources ``mu`` of classes ``labels``.

        Args:
            mu (Tensor): Source means :math:`E_\\mu(x)`, shape (N, D).
            labels (Tensor): Their classes, shape (N,).
            generator (torch.Generator, optional): Source of :math:`r`.
                Defaults to None (the global generator).

        Returns:
            Tensor: :math:`z'`, shape (N, D).
        """
        labels = labels.long().cpu()
        short = [int(c) for c in labels.unique() if self.count[int(c)] < 2]
        if short:
            raise ValueError(
                f'classes {short} have fewer than 2 encodings: no '
                'covariance to augment with'
            )
        r = torch.randn(
            mu.shape, generator=generator, dtype=mu.dtype, device='cpu'
        )
        factor = self.factor[labels].to(mu.dtype)
        if self.form == 'full':
            step = torch.einsum('nij,nj->ni', factor, r)
        else:
            step = factor * r
        return mu + self.step_scale * step.to(mu.device)

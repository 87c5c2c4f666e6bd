# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Paired comparisons of two methods over the same seeds.

A method study trains a baseline and a method with the same seeds (same
data order, same initial draws where the models share them) and compares
a metric seed by seed. With differences :math:`d_i = m_i - b_i` over
:math:`n` seeds:

.. math::
    \\bar d = \\frac{1}{n}\\sum_i d_i, \\qquad
    s_d = \\sqrt{\\frac{1}{n-1}\\sum_i (d_i - \\bar d)^2}, \\qquad
    \\bar d \\pm t_{0.975,\\,n-1}\\, \\frac{s_d}{\\sqrt n}

is the mean difference and its two-sided 95 % confidence interval
(Student's t). A method's effect counts as shown only when the interval
excludes zero in the claimed direction.
"""

import math
from typing import Dict, Sequence

# Two-sided 95 % quantiles t_{0.975, df} of Student's t, df = 1..30.
_T975 = (
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060,
    2.2622, 2.2281, 2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199,
    2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639,
    2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
)  # fmt: skip


def t_quantile_975(df: int) -> float:
    """``t_{0.975, df}``: tabulated to df 30, the normal 1.96 beyond."""
    if df < 1:
        raise ValueError(f'df must be >= 1, got {df}')
    return _T975[df - 1] if df <= len(_T975) else 1.959964


def paired_difference(
    method: Sequence[float], baseline: Sequence[float]
) -> Dict[str, float]:
    """Mean paired difference ``method - baseline`` with its 95 % CI.

    Args:
        method (Sequence[float]): The method's metric, one value per seed.
        baseline (Sequence[float]): The baseline's, same seeds, same order.

    Returns:
        dict: ``n``, ``mean``, ``std`` (of the differences, ddof 1),
        ``ci_low``, ``ci_high``.

    Example:
        >>> r = paired_difference([2, 2, 5], [1, 2, 3])
        >>> r['mean'], r['std'], round(r['ci_low'], 3), round(r['ci_high'], 3)
        (1.0, 1.0, -1.484, 3.484)
    """
    if len(method) != len(baseline):
        raise ValueError(
            f'paired values need the same seeds: {len(method)} vs '
            f'{len(baseline)} values'
        )
    n = len(method)
    if n < 2:
        raise ValueError('a confidence interval needs at least 2 seeds')
    d = [float(m) - float(b) for m, b in zip(method, baseline)]
    mean = sum(d) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
    half = t_quantile_975(n - 1) * std / math.sqrt(n)
    return dict(
        n=n, mean=mean, std=std, ci_low=mean - half, ci_high=mean + half
    )

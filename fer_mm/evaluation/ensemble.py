# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Soft voting: the ensemble rule of the LSD multi-task bag."""

from typing import Optional, Sequence, Union

import numpy as np
import torch

Table = Union[np.ndarray, torch.Tensor]


def soft_vote(
    probs: Sequence[Table], weights: Optional[Sequence[float]] = None
) -> torch.Tensor:
    r"""Average the class probabilities of several models.

    .. math:: \bar p_{nc} = \frac{\sum_m w_m p^{(m)}_{nc}}{\sum_m w_m}

    with equal weights by default (the paper's soft voting). The predicted
    class of sample :math:`n` is :math:`\arg\max_c \bar p_{nc}`.

    Args:
        probs (Sequence[array | Tensor]): One ``(N, C)`` table per model,
            rows are probability vectors over the same classes and samples.
        weights (Sequence[float], optional): One non-negative weight per
            model. Defaults to None (equal).

    Returns:
        torch.Tensor: The ``(N, C)`` float64 mean table.
    """
    if len(probs) == 0:
        raise ValueError('soft_vote: no probability tables')
    tables = [
        torch.as_tensor(np.asarray(p), dtype=torch.float64) for p in probs
    ]
    shape = tables[0].shape
    for m, t in enumerate(tables):
        if t.dim() != 2 or t.shape != shape:
            raise ValueError(
                f'soft_vote: table {m} has shape {tuple(t.shape)}, expected '
                f'{tuple(shape)} (samples x classes, like table 0)'
            )
        if (t < 0).any():
            raise ValueError(f'soft_vote: table {m} has negative entries')
    if weights is None:
        weights = [1.0] * len(tables)
    w = torch.as_tensor(weights, dtype=torch.float64)
    if w.shape != (len(tables),) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(
            f'soft_vote: need {len(tables)} non-negative weights with a '
            f'positive sum, got {list(weights)}'
        )
    stacked = torch.stack(tables)
    return (stacked * w.view(-1, 1, 1)).sum(dim=0) / w.sum()

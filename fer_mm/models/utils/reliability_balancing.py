# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
r"""The reliability-balancing maths of ARBEx, as plain functions.

`ARBEx <https://arxiv.org/abs/2305.01486>`_ corrects a primary class
distribution :math:`p` with a label correction built from learnable anchors
and an attention distribution, each weighted by its confidence.
:class:`fer_mm.models.ARBExHead` holds the parameters (MLP, anchors,
attention) and calls these functions; they have no parameters of their own.
"""

import math

import torch
import torch.nn.functional as F

__all__ = [
    'entropy_confidence',
    'anchor_distances',
    'anchor_similarity',
    'confidence_weighted_correction',
    'reliability_balance',
]


def entropy_confidence(
    probs: torch.Tensor, clamp: bool = False
) -> torch.Tensor:
    r"""Confidence :math:`c(q) = 1 - H(q) / \ln C` of distributions.

    :math:`H(q) = -\sum_c q_c \ln q_c` with :math:`0 \ln 0 = 0`: the log is
    taken of :math:`\max(q, \text{tiny})` (the smallest normal float), so a
    one-hot ``q`` gives exactly 1 with a finite gradient where the
    reference (``normalized_entropy`` in ARBEx's ``utils.py``) returns NaN;
    for any ``q`` above ``tiny`` the value and gradient are the reference's.

    Args:
        probs (torch.Tensor): Distributions ``(..., C)``, ``C >= 2``.
        clamp (bool): Clamp the result to ``[0, 1]`` against rounding. The
            clamp passes no gradient where :math:`c` rounds onto or past a
            bound (a saturated sample's :math:`c = 1.0`), where the
            reference keeps it. Defaults to False (the reference).

    Returns:
        torch.Tensor: Confidences ``(...)``.
    """
    tiny = torch.finfo(probs.dtype).tiny
    entropy = -(probs * probs.clamp_min(tiny).log()).sum(-1)
    conf = 1 - entropy / math.log(probs.size(-1))
    return conf.clamp(0, 1) if clamp else conf


def anchor_distances(emb: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    r"""Euclidean distances :math:`d_{b,i,k} = \lVert e_b - A_{i,k}\rVert_2`.

    Args:
        emb (torch.Tensor): Embeddings ``(B, D)``.
        anchors (torch.Tensor): Anchors ``(C, K, D)``.

    Returns:
        torch.Tensor: ``(B, C, K)``; the square root is taken of at least
        ``1e-12`` so that a zero distance keeps a finite gradient.
    """
    sq = (emb[:, None, None, :] - anchors[None]).pow(2).sum(-1)
    return sq.clamp_min(1e-12).sqrt()


def anchor_similarity(distances: torch.Tensor, delta: float) -> torch.Tensor:
    r"""Class similarity :math:`s_{b,i} = \sum_k \mathrm{softmax}_{(i,k)}
    (-d_b / \delta)`, the softmax taken over all :math:`C K` anchors.

    Args:
        distances (torch.Tensor): ``(B, C, K)``.
        delta (float): Scale :math:`\delta > 0`.

    Returns:
        torch.Tensor: ``(B, C)``, rows summing to 1.
    """
    flat = distances.flatten(1) / -delta
    return F.softmax(flat, dim=-1).view_as(distances).sum(-1)


def confidence_weighted_correction(
    sim: torch.Tensor, attn: torch.Tensor
) -> torch.Tensor:
    r"""Label correction :math:`(c(s) s + c(a) a) / (c(s) + c(a))`.

    When both confidences vanish (e.g. both distributions uniform) the
    correction is :math:`(s + a) / 2`.

    Args:
        sim (torch.Tensor): Anchor similarity ``(B, C)``.
        attn (torch.Tensor): Attention distribution ``(B, C)``.

    Returns:
        torch.Tensor: ``(B, C)``.
    """
    conf_s = entropy_confidence(sim)[:, None]
    conf_a = entropy_confidence(attn)[:, None]
    denom = conf_s + conf_a
    eps = torch.finfo(denom.dtype).eps
    mixed = (conf_s * sim + conf_a * attn) / denom.clamp_min(eps)
    return torch.where(denom > eps, mixed, (sim + attn) / 2)


def reliability_balance(
    probs: torch.Tensor,
    confidence: torch.Tensor,
    correction: torch.Tensor,
    progress: float,
) -> torch.Tensor:
    r"""Final distribution :math:`\hat p = (1 - t) p + t (c\,p + (1 - c)
    \,corr)`.

    Args:
        probs (torch.Tensor): Primary distribution :math:`p` ``(B, C)``.
        confidence (torch.Tensor): :math:`c(p)` ``(B,)``.
        correction (torch.Tensor): ``(B, C)``.
        progress (float): Training progress :math:`t \in [0, 1]`.

    Returns:
        torch.Tensor: :math:`\hat p` ``(B, C)``.
    """
    conf = confidence[:, None]
    balanced = conf * probs + (1 - conf) * correction
    return (1 - progress) * probs + progress * balanced

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""ARBEx reliability-balancing functions, against numbers worked by hand."""

import math

import torch

from fer_mm.models.utils.reliability_balancing import (
    anchor_distances,
    anchor_similarity,
    confidence_weighted_correction,
    entropy_confidence,
    reliability_balance,
)


def test_anchor_distances_and_similarity():
    emb = torch.tensor([[0.0, 0.0]])
    # class 0: anchors at distance 3 and 4; class 1: one at distance 5 and
    # one on the embedding (distance 0, kept at sqrt(1e-12) = 1e-6).
    anchors = torch.tensor(
        [[[3.0, 0.0], [0.0, 4.0]], [[3.0, 4.0], [0.0, 0.0]]]
    )
    d = anchor_distances(emb, anchors)
    torch.testing.assert_close(d, torch.tensor([[[3.0, 4.0], [5.0, 1e-6]]]))
    # softmax over the four -d / delta with delta = 2
    w = [math.exp(-x / 2) for x in (3.0, 4.0, 5.0, 1e-6)]
    s0 = (w[0] + w[1]) / sum(w)
    s = anchor_similarity(d, delta=2.0)
    torch.testing.assert_close(s, torch.tensor([[s0, 1 - s0]]))


def test_correction_weights_by_confidence():
    sim = torch.tensor([[1.0, 0.0]])  # c = 1
    attn = torch.tensor([[0.5, 0.5]])  # c = 0
    torch.testing.assert_close(
        confidence_weighted_correction(sim, attn), torch.tensor([[1.0, 0.0]])
    )
    # both uniform: both confidences are 0 -> plain mean
    u = torch.full((1, 4), 0.25)
    torch.testing.assert_close(confidence_weighted_correction(u, u), u)
    # c([0.9, 0.1]) by hand
    q = torch.tensor([[0.9, 0.1]])
    h = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    c = 1 - h / math.log(2)
    torch.testing.assert_close(entropy_confidence(q), torch.tensor([c]))
    # q with confidence c against a fully confident [0, 1]
    expected = (c * q + 1.0 * torch.tensor([[0.0, 1.0]])) / (c + 1.0)
    torch.testing.assert_close(
        confidence_weighted_correction(q, torch.tensor([[0.0, 1.0]])),
        expected,
    )


def test_reliability_balance_by_hand():
    p = torch.tensor([[0.8, 0.2]])
    corr = torch.tensor([[0.0, 1.0]])
    conf = torch.tensor([0.25])
    # balanced = 0.25 p + 0.75 corr = [0.2, 0.8]; t = 0.5 -> mean with p
    out = reliability_balance(p, conf, corr, progress=0.5)
    torch.testing.assert_close(out, torch.tensor([[0.5, 0.5]]))
    torch.testing.assert_close(reliability_balance(p, conf, corr, 0.0), p)
    torch.testing.assert_close(
        reliability_balance(p, conf, corr, 1.0), torch.tensor([[0.2, 0.8]])
    )


def test_saturated_confidence_keeps_the_reference_gradient():
    """A saturated sample's c(p) rounds to 1.0 in float32. The reference
    (1 - H/ln C, no clamp) still passes a gradient; the clamp option passes
    none. Expected gradient: the same formula in float64."""
    import math

    z = torch.tensor([[40.0, 0, 0, 0, 0, 0, 0]], requires_grad=True)
    c = entropy_confidence(z.softmax(-1))
    assert c.item() == 1.0
    (grad,) = torch.autograd.grad(c.sum(), z)
    z64 = z.detach().double().requires_grad_()
    p64 = z64.softmax(-1)
    c64 = 1 - (-(p64 * p64.log()).sum(-1)) / math.log(7)
    (grad64,) = torch.autograd.grad(c64.sum(), z64)
    assert grad[0, 1].item() != 0.0
    # the losing classes' gradients (~1e-16 each; the winner's rounds to 0
    # in float32 where float64 gives 7e-16)
    torch.testing.assert_close(
        grad[0, 1:].double(), grad64[0, 1:], rtol=1e-4, atol=0.0
    )
    z.grad = None
    clamped = entropy_confidence(z.softmax(-1), clamp=True)
    (grad_clamped,) = torch.autograd.grad(clamped.sum(), z)
    assert clamped.item() == 1.0 and (grad_clamped == 0).all()
    # the clamp keeps values in [0, 1] where rounding leaves them
    uniform = torch.full((1, 7), 1 / 7)
    assert 0.0 <= entropy_confidence(uniform, clamp=True).item() <= 1.0


def test_arbex_head_confidence_clamp_option():
    from mmpretrain.registry import MODELS

    head = MODELS.build(
        dict(type='ARBExHead', num_classes=3, in_channels=4,
             hidden_channels=(8,), num_anchors=2)
    )  # fmt: skip
    assert head.clamp_confidence is False
    clamped = MODELS.build(
        dict(type='ARBExHead', num_classes=3, in_channels=4,
             hidden_channels=(8,), num_anchors=2, clamp_confidence=True)
    )  # fmt: skip
    assert clamped.clamp_confidence is True

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""ARBEx head and losses against hand computations (C=3, K=2, D=4)."""

import math
from unittest import TestCase

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import fer_mm  # noqa: F401
from fer_mm.models import (
    ARBExAnchorLoss,
    ARBExCenterLoss,
    ARBExClassLoss,
    ARBExHead,
    anchor_loss,
)
from fer_mm.models.utils.reliability_balancing import entropy_confidence

C, K, D = 3, 2, 4
DEFAULT_ARGS = dict(
    type='ARBExHead',
    num_classes=C,
    in_channels=D,
    hidden_channels=(5,),
    num_anchors=K,
    dropout=0.0,
)


def build_head(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(DEFAULT_ARGS, **kwargs))


def conf(q):
    """c(q) = 1 - H(q) / ln C with plain Python floats."""
    return 1 - -sum(x * math.log(x) for x in q if x > 0) / math.log(len(q))


def real(label):
    return DataSample().set_gt_label(label)


def mixed(score):
    return DataSample(metainfo=dict(batch_mixed=True)).set_gt_score(
        torch.tensor(score)
    )


class TestEntropyConfidence(TestCase):
    def test_values(self):
        q = torch.tensor(
            [[1 / 3] * 3, [0.0, 1.0, 0.0], [0.5, 0.25, 0.25]],
            requires_grad=True,
        )
        c = entropy_confidence(q)
        expected = 1 - 1.5 * math.log(2) / math.log(3)
        torch.testing.assert_close(c, torch.tensor([0.0, 1.0, expected]))
        c.sum().backward()
        self.assertTrue(torch.isfinite(q.grad).all())


class TestARBExHead(TestCase):
    def set_ladder_anchors(self, head):
        # anchor (i, k) = (2i + k + 1) * x_0, so e = 0 is at distances 1..6
        with torch.no_grad():
            head.anchors.zero_()
            head.anchors[..., 0] = torch.arange(1.0, 7.0).view(C, K)

    def test_build(self):
        head = build_head()
        self.assertIsInstance(head, ARBExHead)
        self.assertIsInstance(head.loss_module, ARBExClassLoss)
        self.assertIsInstance(head.loss_anchor, ARBExAnchorLoss)
        self.assertIsInstance(head.loss_center, ARBExCenterLoss)
        self.assertEqual(head.anchors.shape, (C, K, D))
        self.assertEqual(head.attn_q.out_features, C * K)
        head = build_head(class_weights=[1.0, 2.0, 0.5])
        torch.testing.assert_close(
            head.loss_module.class_weight, torch.tensor([1.0, 2.0, 0.5])
        )

    def test_bad_args(self):
        cases = [
            (dict(num_classes=1), 'num_classes must be an integer >= 2'),
            (dict(num_anchors=0), 'num_anchors must be a positive'),
            (dict(num_attn_anchors=0), 'num_attn_anchors must be a positive'),
            (dict(test_mode='mean'), 'test_mode must be one of'),
            (dict(num_attn_heads=2), 'num_attn_heads must be 1'),
            (dict(batch_attention=True, num_attn_heads=4), 'must divide'),
            (dict(temperature=0.0), 'temperature and delta must be > 0'),
            (dict(dropout=1.0), r'dropout must be in \[0, 1\)'),
            (dict(class_weights=[1.0, 2.0]), 'class_weights must hold 3'),
            (
                dict(
                    class_weights=[1.0, 1.0, 1.0],
                    loss_cls=dict(
                        type='ARBExClassLoss', class_weight=[1.0, 1.0, 1.0]
                    ),
                ),
                'give class weights once',
            ),
        ]
        for kwargs, msg in cases:
            with self.assertRaisesRegex(ValueError, msg):
                build_head(**kwargs)
        head = build_head()
        head.progress = 1.5
        with self.assertRaisesRegex(ValueError, r'progress must be in'):
            head.current_progress()

    def test_similarity(self):
        head = build_head(delta=2.0)
        self.set_ladder_anchors(head)
        dist = head.anchor_distances(torch.zeros(1, D))
        torch.testing.assert_close(dist[0], torch.arange(1.0, 7.0).view(C, K))
        z = [math.exp(-d / 2) for d in range(1, 7)]
        expected = [(z[2 * i] + z[2 * i + 1]) / sum(z) for i in range(C)]
        torch.testing.assert_close(
            head.similarity(dist)[0], torch.tensor(expected)
        )

    def test_correction(self):
        s, a = [0.5, 0.25, 0.25], [0.2, 0.3, 0.5]
        cs, ca = conf(s), conf(a)
        expected = [(cs * x + ca * y) / (cs + ca) for x, y in zip(s, a)]
        out = ARBExHead.correction(torch.tensor([s]), torch.tensor([a]))
        torch.testing.assert_close(out[0], torch.tensor(expected))
        # Both uniform: no 0 / 0, the plain average.
        uniform = torch.full((1, C), 1 / 3)
        torch.testing.assert_close(
            ARBExHead.correction(uniform, uniform), uniform
        )

    def test_final_distribution(self):
        head = build_head().eval()
        emb = torch.randn(2, D)
        at0 = head.distributions(emb, 0.0)
        torch.testing.assert_close(at0['corrected'], at0['probs'])
        out = head.distributions(emb, 1.0)
        for b in range(2):
            p = out['probs'][b].tolist()
            s = out['similarity'][b].tolist()
            a = out['attention'][b].tolist()
            cp, cs, ca = conf(p), conf(s), conf(a)
            corr = [(cs * x + ca * y) / (cs + ca) for x, y in zip(s, a)]
            expected = [cp * x + (1 - cp) * y for x, y in zip(p, corr)]
            torch.testing.assert_close(
                out['corrected'][b], torch.tensor(expected)
            )
            torch.testing.assert_close(
                head.distributions(emb, 0.3)['corrected'][b],
                0.7 * out['probs'][b] + 0.3 * out['corrected'][b],
            )
        torch.testing.assert_close(out['corrected'].sum(1), torch.ones(2))
        torch.testing.assert_close(head((emb,)), out['corrected'])

    def test_attention_definition(self):
        head = build_head()
        emb = torch.randn(2, D)
        q, k, v = head.attn_q(emb), head.attn_k(emb), head.attn_v(emb)
        mha = head.attn
        wq, wk, wv = mha.in_proj_weight.view(3, 1)
        bq, bk, bv = mha.in_proj_bias
        # Tokens = the C*K values of one sample, each of dimension 1.
        scores = (q * wq + bq)[:, :, None] * (k * wk + bk)[:, None, :]
        ctx = torch.einsum('bij,bj->bi', scores.softmax(-1), v * wv + bv)
        out = ctx * mha.out_proj.weight[0, 0] + mha.out_proj.bias[0]
        expected = out.softmax(-1).view(2, C, K).sum(-1)
        torch.testing.assert_close(head.attention(emb), expected)

    def test_per_sample_prediction(self):
        emb = torch.randn(5, D)
        head = build_head().eval()
        torch.testing.assert_close(head((emb[:1],))[0], head((emb,))[0])
        # The reference's attention runs across the batch.
        head = build_head(batch_attention=True).eval()
        self.assertFalse(torch.allclose(head((emb[:1],))[0], head((emb,))[0]))
        self.assertFalse(
            torch.allclose(head.attention(emb[:1])[0], head.attention(emb)[0])
        )

    def test_predict(self):
        emb = torch.randn(3, D)
        head = build_head().eval()
        samples = head.predict((emb,), [DataSample() for _ in range(3)])
        scores = head((emb,))
        for sample, score in zip(samples, scores):
            torch.testing.assert_close(sample.pred_score, score)
            self.assertEqual(sample.pred_label.item(), score.argmax().item())
        head = build_head(test_mode='primary').eval()
        samples = head.predict((emb,))
        torch.testing.assert_close(
            torch.stack([s.pred_score for s in samples]), head.primary(emb)
        )

    def test_progress(self):
        head = build_head()
        hub = MessageHub.get_instance('test_arbex_progress')
        hub.update_info('iter', 25)
        hub.update_info('max_iters', 100)
        self.assertEqual(head.current_progress(), 0.25)
        head.progress = 0.6  # an explicit value wins
        self.assertEqual(head.current_progress(), 0.6)

    def test_loss(self):
        head = build_head()
        self.set_ladder_anchors(head)
        head.progress = 0.5
        emb = torch.randn(3, D)
        samples = [real(0), real(2), real(1)]
        losses = head.loss((emb,), samples)
        self.assertEqual(
            set(losses), {'loss_cls', 'loss_anchor', 'loss_center'}
        )
        out = head.distributions(emb, 0.5)
        labels = torch.tensor([0, 2, 1])
        torch.testing.assert_close(
            losses['loss_cls'], F.nll_loss(out['corrected'].log(), labels)
        )
        torch.testing.assert_close(
            losses['loss_anchor'], 0.5 * anchor_loss(head.anchors)
        )
        dist = out['distances']
        center = (
            sum(
                out['confidence'][b] * dist[b, labels[b]].min() / math.sqrt(D)
                for b in range(3)
            )
            / 3
        )
        torch.testing.assert_close(losses['loss_center'], 0.5 * center)

    def test_loss_mixed_samples(self):
        # eval: BatchNorm must not couple the samples for this comparison
        head = build_head(class_weights=[1.0, 2.0, 0.5]).eval()
        head.progress = 1.0
        emb = torch.randn(3, D)
        samples = [mixed([0.3, 0.7, 0.0]), real(2), real(1)]
        weight = torch.tensor([1.5, 3.0, 3.0])
        losses = head.loss((emb,), samples, weight=weight)
        out = head.distributions(emb, 1.0)
        logp, w = out['corrected'].log(), torch.tensor([1.0, 2.0, 0.5])
        terms = [
            -(0.3 * 1 * logp[0, 0] + 0.7 * 2 * logp[0, 1]),
            -0.5 * logp[1, 2],
            -2 * logp[2, 1],
        ]
        mass = 0.3 * 1 + 0.7 * 2 + w[2] + w[1]
        expected = sum(x * y for x, y in zip(weight, terms)) / mass
        torch.testing.assert_close(losses['loss_cls'], expected)
        # The mixed sample only enters the class loss.
        center = (
            sum(
                out['confidence'][b]
                * out['distances'][b, y].min()
                / math.sqrt(D)
                for b, y in ((1, 2), (2, 1))
            )
            / 2
        )
        torch.testing.assert_close(losses['loss_center'], center)
        emb2 = emb.clone()
        emb2[0] += 5
        torch.testing.assert_close(
            head.loss((emb2,), samples, weight=weight)['loss_center'],
            losses['loss_center'],
        )
        # No real sample at all: a zero center loss.
        losses = head.loss((emb[:1],), samples[:1], weight=weight[:1])
        self.assertEqual(losses['loss_center'].item(), 0.0)
        self.assertTrue(torch.isfinite(losses['loss_cls']))


class TestARBExClassLoss(TestCase):
    def test_hard_labels(self):
        p = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]])
        y, w = [0, 2, 1], [1.0, 2.0, 0.5]
        loss = MODELS.build(dict(type='ARBExClassLoss', class_weight=w))
        expected = sum(-w[c] * math.log(p[b, c]) for b, c in enumerate(y))
        expected /= sum(w[c] for c in y)
        torch.testing.assert_close(
            loss(p, torch.tensor(y)), torch.tensor(expected)
        )
        torch.testing.assert_close(
            loss(p, torch.tensor(y)),
            F.nll_loss(p.log(), torch.tensor(y), weight=torch.tensor(w)),
        )
        # Soft one-hot targets give the same value; per-sample weights
        # multiply the numerator only.
        torch.testing.assert_close(
            loss(p, F.one_hot(torch.tensor(y), 3).float()),
            torch.tensor(expected),
        )
        omega = torch.tensor([2.0, 0.0, 1.0])
        expected_w = (2 * -w[0] * math.log(0.7) + -w[1] * math.log(0.4)) / sum(
            w[c] for c in y
        )
        torch.testing.assert_close(
            loss(p, torch.tensor(y), weight=omega), torch.tensor(expected_w)
        )

    def test_bad_args(self):
        with self.assertRaisesRegex(ValueError, 'reduction must be'):
            ARBExClassLoss(reduction='avg')
        with self.assertRaisesRegex(ValueError, '2 class weights for 3'):
            ARBExClassLoss(class_weight=[1.0, 1.0])(
                torch.full((1, 3), 1 / 3), torch.tensor([0])
            )


class TestAnchorLoss(TestCase):
    def anchors(self):
        return torch.randn(C, K, D, generator=torch.Generator().manual_seed(1))

    def test_reference_form(self):
        a = self.anchors()
        expected = -sum(
            ((a[i] - a[j]) ** 2).sum() for i in range(C) for j in range(C)
        )
        expected = expected / K**2 / math.sqrt(D)
        loss = MODELS.build(dict(type='ARBExAnchorLoss', mode='reference'))
        torch.testing.assert_close(loss(a), expected)

    def test_margin_form(self):
        a = self.anchors() * 0.3
        terms = [
            max(0.0, 1.0 - (a[i, k] - a[j, m]).norm().item() / math.sqrt(D))
            ** 2
            for i in range(C)
            for j in range(C)
            if i != j
            for k in range(K)
            for m in range(K)
        ]
        self.assertEqual(len(terms), C * (C - 1) * K * K)
        loss = ARBExAnchorLoss(loss_weight=2.0)
        torch.testing.assert_close(
            loss(a), torch.tensor(2 * sum(terms) / len(terms))
        )

    def test_bounded(self):
        far = self.anchors() * 100
        self.assertEqual(anchor_loss(far).item(), 0.0)  # lower bound
        self.assertLessEqual(anchor_loss(torch.zeros(C, K, D)).item(), 1.0)
        # The reference form keeps decreasing as the anchors spread.
        ref = [anchor_loss(far * s, mode='reference') for s in (1, 10)]
        self.assertLess(ref[1], 50 * ref[0])

    def grad(self, anchors, mode):
        anchors = anchors.clone().requires_grad_(True)
        anchor_loss(anchors, mode=mode).backward()
        return anchors.grad

    def test_gradient_at_init(self):
        zero = torch.zeros(C, K, D)
        # Exactly equal anchors: the reference form has no gradient (and,
        # by symmetry, no isotropic form has one; the margin one stays
        # finite).
        self.assertEqual(self.grad(zero, 'reference').abs().max().item(), 0.0)
        self.assertTrue(torch.isfinite(self.grad(zero, 'margin')).all())
        # Nearly equal anchors: the margin form pushes them apart with a
        # gradient that does not shrink with the spread; the reference
        # form's gradient vanishes with it.
        noise = self.anchors()
        m1, m2 = (self.grad(noise * s, 'margin').norm() for s in (1e-3, 1e-5))
        r1, r2 = (
            self.grad(noise * s, 'reference').norm() for s in (1e-3, 1e-5)
        )
        self.assertGreater(m2.item(), 0.1)
        torch.testing.assert_close(m1, m2, rtol=1e-2, atol=0)
        torch.testing.assert_close(
            r1 / r2, torch.tensor(100.0), rtol=1e-3, atol=0
        )
        # The head's default random initialisation.
        head = build_head()
        self.assertGreater(self.grad(head.anchors.data, 'margin').norm(), 0)

    def test_bad_args(self):
        with self.assertRaisesRegex(ValueError, 'mode must be one of'):
            ARBExAnchorLoss(mode='hinge')
        with self.assertRaisesRegex(ValueError, 'margin must be > 0'):
            ARBExAnchorLoss(margin=0)


class TestARBExCenterLoss(TestCase):
    def test_hand(self):
        dist = torch.tensor(
            [
                [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
                [[6.0, 5.0], [4.0, 3.0], [2.0, 1.0]],
            ]
        )
        conf_ = torch.tensor([0.5, 0.25], requires_grad=True)
        loss = MODELS.build(dict(type='ARBExCenterLoss'))
        out = loss(dist, torch.tensor([1, 2]), D, confidence=conf_)
        torch.testing.assert_close(
            out, torch.tensor((0.5 * 3 + 0.25 * 1) / 2 / math.sqrt(D))
        )
        out.backward()  # not detached (reference)
        self.assertIsNotNone(conf_.grad)
        detached = ARBExCenterLoss(detach_confidence=True)
        self.assertFalse(
            detached(
                dist, torch.tensor([1, 2]), D, confidence=conf_
            ).requires_grad
        )
        empty = loss(dist[:0], torch.zeros(0, dtype=torch.long), D)
        self.assertEqual(empty.item(), 0.0)


class TestARBExTrainStep(TestCase):
    def build(self, **kwargs):
        torch.manual_seed(0)
        model = MODELS.build(
            dict(
                type='FERClassifier',
                backbone=dict(
                    type='ResNet', depth=18, base_channels=8, stem_channels=8
                ),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(type='ARBExHead', in_channels=64, num_classes=7),
                data_preprocessor=dict(num_classes=7),
                **kwargs,
            )
        )
        model.head.progress = 0.5
        return model

    def data(self):
        g = torch.Generator().manual_seed(0)
        return dict(
            inputs=[
                torch.randint(
                    0, 256, (3, 32, 32), generator=g, dtype=torch.uint8
                )
                for _ in range(4)
            ],
            data_samples=[real(y) for y in (0, 3, 6, 3)],
        )

    def test_train_step(self):
        model = self.build()
        optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
        before = model.head.anchors.detach().clone()
        log_vars = model.train_step(self.data(), optim)
        self.assertEqual(
            set(log_vars), {'loss', 'loss_cls', 'loss_anchor', 'loss_center'}
        )
        self.assertFalse(torch.equal(before, model.head.anchors))

    def test_train_step_mixaugment(self):
        model = self.build(
            train_cfg=dict(augments=dict(type='MixAugment', alpha=0.1))
        )
        optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
        data = model.data_preprocessor(self.data(), training=True)
        self.assertEqual(len(data['data_samples']), 8)  # mixed + real
        losses = model(**data, mode='loss')
        self.assertTrue(all(torch.isfinite(v) for v in losses.values()))
        log_vars = model.train_step(self.data(), optim)
        self.assertEqual(set(log_vars), set(losses) | {'loss'})
        self.assertTrue(
            all(torch.isfinite(v.detach()) for v in log_vars.values())
        )


def test_arbex_rafdb_config_is_the_paper_recipe():
    """arbex_posterv2_8xb32-285e_rafdb.py: weights + shuffling (no balanced sampler), the paper's
    1000 x (500 x 7) images and 0.995 per 3,500 images, one param group per
    reference module, one attention value per class."""
    import os.path as osp

    from mmengine.config import Config

    from fer_mm.datasets.categories import RAFDB_TRAIN_COUNTS

    repo = osp.dirname(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    )
    cfg = Config.fromfile(
        osp.join(repo, 'configs/arbex/arbex_posterv2_8xb32-285e_rafdb.py')
    )
    assert cfg.train_dataloader.sampler == dict(
        type='DefaultSampler', shuffle=True
    )
    counts = np.array(RAFDB_TRAIN_COUNTS, dtype=float)
    weights = counts.sum() / len(counts) / counts
    np.testing.assert_allclose(
        cfg.model.head.class_weights, weights, atol=1e-4
    )
    n_train = counts.sum()
    assert n_train == 12271
    images = cfg.train_cfg.max_epochs * n_train
    assert abs(images - 1000 * 500 * 7) / (1000 * 500 * 7) < 0.002
    (sched,) = cfg.param_scheduler
    assert sched.type == 'ExponentialLR' and sched.by_epoch
    # lr after all passes = the paper's after 1000 epochs
    np.testing.assert_allclose(
        sched.gamma**cfg.train_cfg.max_epochs, 0.995**1000, rtol=0.02
    )
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=3e-4)
    keys = cfg.optim_wrapper.paramwise_cfg.custom_keys
    assert set(keys) == {'backbone', 'head.mlp', 'head.anchors', 'head.attn'}
    head = cfg.model.head
    assert (head.num_anchors, head.num_attn_anchors) == (10, 1)
    assert cfg.sync_bn == 'torch'


class TestARBExHeadOptions(TestCase):
    """Options of the primary-head experiment (detached confidence, warm-up
    of t, log-only diagnostics)."""

    def test_progress_warmup(self):
        head = build_head(progress_warmup=0.5)
        hub = MessageHub.get_instance('test_arbex_warmup')
        hub.update_info('max_iters', 100)
        # t = max(iter / max - 0.5, 0) / 0.5, by hand
        for it, t in ((0, 0.0), (25, 0.0), (50, 0.0), (75, 0.5), (100, 1.0)):
            hub.update_info('iter', it)
            self.assertAlmostEqual(head.current_progress(), t)
        with self.assertRaisesRegex(ValueError, 'progress_warmup'):
            build_head(progress_warmup=1.0)

    def test_train_progress_fixed_at_zero(self):
        """train_progress=0: t stays 0 whatever the message hub says, so
        the trained distribution is p, the class loss is the NLL of p (by
        hand: F.nll_loss of log softmax(mlp(emb))), the anchor and centre
        losses are 0, and no gradient reaches the anchors."""
        head = build_head(train_progress=0.0, test_mode='primary')
        hub = MessageHub.get_instance('test_arbex_train_progress')
        hub.update_info('iter', 90)
        hub.update_info('max_iters', 100)
        self.assertEqual(head.current_progress(), 0.0)
        emb = torch.randn(4, D)
        labels = torch.tensor([0, 2, 1, 1])
        losses = head.loss((emb,), [real(int(y)) for y in labels])
        logp = F.log_softmax(head.mlp(emb) / head.temperature, dim=-1)
        torch.testing.assert_close(
            losses['loss_cls'], F.nll_loss(logp, labels)
        )
        self.assertEqual(losses['loss_anchor'].item(), 0.0)
        self.assertEqual(losses['loss_center'].item(), 0.0)
        sum(losses.values()).backward()
        self.assertTrue(
            head.anchors.grad is None or not head.anchors.grad.any()
        )
        # a value outside [0, 1] is refused when the head is built
        with self.assertRaisesRegex(ValueError, 'train_progress'):
            build_head(train_progress=1.5)
        # by default the hub's ramp applies (0.9 here)
        self.assertAlmostEqual(build_head().current_progress(), 0.9)

    def test_detached_confidence_has_no_gradient(self):
        emb = torch.randn(4, D)
        outs = build_head().distributions(emb, 1.0)
        self.assertTrue(outs['confidence'].requires_grad)
        head = build_head(detach_confidence=True)
        outs = head.distributions(emb, 1.0)
        self.assertFalse(outs['confidence'].requires_grad)
        # same values, only the gradient path differs
        torch.testing.assert_close(
            outs['corrected'],
            build_head().distributions(emb, 1.0)['corrected'],
        )

    def test_diagnostics_by_hand(self):
        head = build_head(log_diagnostics=True)
        head.progress = 0.5
        emb = torch.randn(4, D)
        samples = [real(0), real(2), real(1), real(0)]
        losses = head.loss((emb,), samples)
        self.assertEqual(
            set(losses),
            {
                'loss_cls',
                'loss_anchor',
                'loss_center',
                'conf_primary',
                'acc_primary',
                'acc_corrected',
                'progress',
            },
        )
        out = head.distributions(emb, 0.5)
        labels = torch.tensor([0, 2, 1, 0])
        want_p = (out['probs'].argmax(1) == labels).float().mean() * 100
        want_c = (out['corrected'].argmax(1) == labels).float().mean() * 100
        torch.testing.assert_close(losses['acc_primary'], want_p)
        torch.testing.assert_close(losses['acc_corrected'], want_c)
        torch.testing.assert_close(
            losses['conf_primary'], out['confidence'].mean()
        )
        self.assertEqual(losses['progress'].item(), 0.5)

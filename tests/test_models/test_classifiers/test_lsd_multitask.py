# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import math
from unittest import TestCase

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import fer_mm  # noqa: F401
from fer_mm.models import (
    LSDLandmarkMSELoss,
    class_weights_from_counts,
    landmark_mse_loss,
)


class TestLandmarkMSELoss(TestCase):
    def test_masked_mean_by_hand(self):
        pred = torch.tensor([[[0.5, 0.5]], [[0.5, 0.5]], [[0.0, 1.0]]])
        target = torch.tensor([[[0.7, 0.1]], [[0.0, 0.0]], [[0.0, 0.0]]])
        valid = torch.tensor([True, False, True])
        # sample 0: ((0.2)^2 + (0.4)^2) / 2 = 0.1; sample 2: (0 + 1) / 2
        # sample 1 is masked (not compared with its zeros).
        loss = landmark_mse_loss(pred, target, valid)
        self.assertAlmostEqual(loss.item(), (0.1 + 0.5) / 2, places=6)
        per = landmark_mse_loss(pred, target, valid, reduction='none')
        self.assertEqual(per.tolist()[1], 0.0)

    def test_point_weight_and_module(self):
        pred = torch.zeros(1, 2, 2)
        target = torch.tensor([[[1.0, 1.0], [0.0, 2.0]]])
        # per point: 1.0 and 2.0; weights 3, 1 -> (3 + 2) / 4 = 1.25
        mod = LSDLandmarkMSELoss(point_weight=[3.0, 1.0], loss_weight=2.0)
        self.assertAlmostEqual(mod(pred, target).item(), 2.5, places=6)

    def test_no_valid_sample_is_a_connected_zero(self):
        pred = torch.rand(2, 68, 2, requires_grad=True)
        loss = landmark_mse_loss(pred, torch.rand(2, 68, 2), torch.zeros(2))
        self.assertEqual(loss.item(), 0.0)
        loss.backward()
        self.assertEqual(pred.grad.abs().sum().item(), 0.0)

    def test_bad_shapes(self):
        with self.assertRaisesRegex(ValueError, r'\(B, K, 2\)'):
            landmark_mse_loss(torch.zeros(2, 136), torch.zeros(2, 136))
        with self.assertRaisesRegex(ValueError, '2 point weights'):
            LSDLandmarkMSELoss(point_weight=[1, 1])(
                torch.zeros(1, 3, 2), torch.zeros(1, 3, 2)
            )

    def test_class_weights_from_counts(self):
        # counts 10, 30: inverse frequency 1/10, 1/30, scaled so that
        # 10 w0 + 30 w1 = 40 -> w0 = 2, w1 = 2/3.
        w = class_weights_from_counts([10, 30])
        self.assertAlmostEqual(w[0], 2.0)
        self.assertAlmostEqual(w[1], 2.0 / 3.0)
        self.assertEqual(class_weights_from_counts([5, 5, 5]), [1.0] * 3)
        with self.assertRaisesRegex(ValueError, 'positive'):
            class_weights_from_counts([3, 0])


def _sample(label, landmarks=None, mixed=False):
    s = DataSample().set_gt_label(label)
    if landmarks is not None:
        s.set_field(torch.tensor(landmarks), 'gt_landmarks')
    if mixed:
        s.set_metainfo(dict(batch_mixed=True))
    return s


class TestLSDMultiTaskHead(TestCase):
    DEFAULT_ARGS = dict(
        type='LSDMultiTaskHead',
        num_classes=2,
        in_channels=2,
        appearance_channels=1,
        shared_channels=(),
        num_landmarks=1,
        loss_cls=dict(type='CrossEntropyLoss', class_weight=[2.0, 0.5]),
    )

    def _head(self):
        head = MODELS.build(self.DEFAULT_ARGS)
        with torch.no_grad():
            # logits = x[:, :2] (fc), landmarks = (0.5, 0.5) for everyone
            head.fc.weight.copy_(torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]))
            head.fc.bias.zero_()
            head.landmark_fc.weight.zero_()
            head.landmark_fc.bias.fill_(0.5)
            head.affinity_loss.centers.copy_(
                torch.tensor([[0.0, 0.0], [2.0, 0.0]])
            )
        # BatchNorm1d on the logits with running stats (0, 1): identity up
        # to eps, so the arithmetic below stays by hand.
        return head.eval()

    def test_total_loss_by_hand(self):
        head = self._head()
        heads = torch.tensor([[[2.0, 0.0]], [[0.0, 1.0]]])  # 1 DAN head
        pooled = torch.tensor([[1.0, 1.0], [2.0, 1.0]])
        appearance = torch.tensor([[5.0], [7.0]])
        samples = [_sample(0, [[0.7, 0.1]]), _sample(1)]  # 2nd: no points
        losses = head.loss((heads, pooled, appearance), samples)
        self.assertEqual(
            set(losses),
            {'loss_cls', 'loss_affinity', 'loss_partition', 'loss_landmark'},
        )
        # logits (2, 0) label 0 and (0, 1) label 1, class weights 2 and 0.5,
        # mmpretrain's CE divides by the batch size:
        ce0, ce1 = math.log1p(math.exp(-2)), math.log1p(math.exp(-1))
        self.assertAlmostEqual(
            losses['loss_cls'].item(), (2 * ce0 + 0.5 * ce1) / 2, places=4
        )
        # centres (0,0) and (2,0): spread = var(0,2) + var(0,0) = 2;
        # distances 2 and 1 -> (2/2 + 1/2) / 2
        self.assertAlmostEqual(losses['loss_affinity'].item(), 0.75, places=5)
        self.assertEqual(losses['loss_partition'].item(), 0.0)  # one head
        # only sample 0: ((0.5-0.7)^2 + (0.5-0.1)^2) / 2 = 0.1
        self.assertAlmostEqual(losses['loss_landmark'].item(), 0.1, places=6)
        total = sum(v for k, v in losses.items() if 'loss' in k)
        expected = (2 * ce0 + 0.5 * ce1) / 2 + 0.75 + 0.1
        self.assertAlmostEqual(total.item(), expected, places=4)

    def test_mixed_samples_have_no_landmark_loss(self):
        head = self._head()
        feats = (torch.rand(3, 1, 2), torch.rand(3, 2), torch.rand(3, 1))
        samples = [
            _sample(0, [[0.7, 0.1]]),
            _sample(1, [[0.0, 0.0]], mixed=True),  # mixed in place (Mixup)
            DataSample(metainfo=dict(batch_mixed=True)),  # MixAugment virtual
        ]
        samples[2].set_gt_score(torch.tensor([0.3, 0.7]))
        pred = torch.full((3, 1, 2), 0.5)
        _, valid = head.landmark_targets(samples, pred)
        self.assertEqual(valid.tolist(), [True, False, False])
        for s in samples[:2]:
            s.set_gt_score(torch.nn.functional.one_hot(s.gt_label, 2)[0])
        losses = head.loss(feats, samples)
        self.assertAlmostEqual(losses['loss_landmark'].item(), 0.1, places=6)

    def test_predict_and_emotion_only(self):
        head = self._head()
        feats = (torch.rand(2, 1, 2), torch.rand(2, 2), torch.rand(2, 1))
        out = head.predict(feats)
        self.assertEqual(out[0].pred_score.shape, (2,))
        self.assertAlmostEqual(out[0].pred_score.sum().item(), 1.0, places=5)
        self.assertEqual(tuple(out[1].pred_landmarks.shape), (1, 2))
        emo = MODELS.build(
            dict(self.DEFAULT_ARGS, appearance_channels=None)
        ).eval()
        losses = emo.loss(feats[:2], [_sample(0), _sample(1)])
        self.assertNotIn('loss_landmark', losses)
        self.assertNotIn('pred_landmarks', emo.predict(feats[:2])[0])
        with self.assertRaisesRegex(TypeError, 'expects 2 features'):
            emo.predict(feats)

    def test_bad_landmarks_named(self):
        head = self._head()
        s = _sample(0, [[0.1, 0.2], [0.3, 0.4]])
        s.set_metainfo(dict(img_path='x/00001.jpg'))
        with self.assertRaisesRegex(ValueError, 'x/00001.jpg.*shape'):
            head.landmark_targets([s], torch.zeros(1, 1, 2))


def _tiny_model(appearance=True, mix=False):
    narrow = dict(
        type='ResNet',
        depth=18,
        base_channels=4,
        stem_channels=4,
        out_indices=(3,),
    )
    cfg = dict(
        type='LSDMultiTaskClassifier',
        backbone=narrow,
        neck=dict(type='DANAttentionNeck', num_heads=2),
        appearance_backbone=narrow if appearance else None,
        head=dict(
            type='LSDMultiTaskHead', num_classes=6, shared_channels=(8,)
        ),
        probe_size=32,
        data_preprocessor=dict(
            num_classes=6, mean=[128.0] * 3, std=[64.0] * 3, to_rgb=True
        ),
    )
    if mix:
        cfg['train_cfg'] = dict(augments=dict(type='MixAugment', alpha=0.4))
    return MODELS.build(cfg)


class TestLSDMultiTaskClassifier(TestCase):
    def _batch(self, channels, n=4, landmarks=True):
        samples = []
        for i in range(n):
            s = DataSample().set_gt_label(i % 6)
            if landmarks and i != 1:  # sample 1 has no landmarks
                s.set_field(torch.rand(68, 2), 'gt_landmarks')
            samples.append(s)
        inputs = [
            torch.randint(0, 255, (channels, 32, 32), dtype=torch.uint8)
            for _ in range(n)
        ]
        return dict(inputs=inputs, data_samples=samples)

    def test_sized_from_backbones(self):
        model = _tiny_model()
        # base 4 ResNet-18: the last stage has 4 * 8 = 32 channels
        self.assertEqual(model.neck.in_channels, 32)
        self.assertEqual(model.head.in_channels, 32)
        self.assertEqual(model.head.appearance_channels, 32)
        self.assertEqual(model.head.affinity_loss.feat_dim, 32)

    def test_train_and_predict(self):
        torch.manual_seed(0)
        model = _tiny_model()
        data = model.data_preprocessor(self._batch(6), True)
        losses = model(**data, mode='loss')
        self.assertEqual(
            set(losses),
            {'loss_cls', 'loss_affinity', 'loss_partition', 'loss_landmark'},
        )
        model.eval()
        data = model.data_preprocessor(self._batch(3, landmarks=False))
        out = model(**data, mode='predict')
        self.assertEqual(out[0].pred_score.shape, (6,))
        self.assertEqual(tuple(out[0].pred_landmarks.shape), (68, 2))
        with self.assertRaisesRegex(ValueError, r'\(B, 3, H, W\)'):
            model.extract_feat(torch.zeros(1, 4, 32, 32))

    def test_views_go_to_their_branches(self):
        model = _tiny_model().eval()
        x = torch.rand(2, 6, 32, 32)
        emo, app = model.split_views(x)
        self.assertTrue(torch.equal(emo, x[:, :3]))
        self.assertTrue(torch.equal(app, x[:, 3:]))
        # changing the appearance view changes only the appearance feature
        y = x.clone()
        y[:, 3:] = torch.rand(2, 3, 32, 32)
        fx, fy = model.extract_feat(x), model.extract_feat(y)
        self.assertTrue(torch.allclose(fx[0], fy[0]))
        self.assertFalse(torch.allclose(fx[2], fy[2]))

    def test_mixaugment_on_two_views(self):
        torch.manual_seed(0)
        model = _tiny_model(mix=True)
        batch = self._batch(6)
        raw = torch.stack(batch['inputs']).float()
        data = model.data_preprocessor(batch, True)
        inputs, samples = data['inputs'], data['data_samples']
        self.assertEqual(inputs.shape, (8, 6, 32, 32))  # 4 virtual + 4 real
        # both views of the real images are normalised per view, RGB order
        mean = torch.full((1, 3, 1, 1), 128.0)
        real = inputs[4:]
        self.assertTrue(
            torch.allclose(real[:, :3], (raw[:, [2, 1, 0]] - mean) / 64.0)
        )
        self.assertTrue(
            torch.allclose(real[:, 3:], (raw[:, [5, 4, 3]] - mean) / 64.0)
        )
        _, valid = model.head.landmark_targets(samples, torch.zeros(8, 68, 2))
        # virtual samples: none; real ones: all but sample 1 (no points)
        self.assertEqual(
            valid.tolist(), [False] * 4 + [True, False, True, True]
        )
        losses = model(**data, mode='loss')
        self.assertIn('loss_landmark', losses)

    def test_emotion_only_model(self):
        model = _tiny_model(appearance=False)
        self.assertFalse(model.with_appearance)
        data = model.data_preprocessor(self._batch(3, landmarks=False), True)
        self.assertNotIn('loss_landmark', model(**data, mode='loss'))
        with self.assertRaisesRegex(ValueError, 'no appearance_backbone'):
            MODELS.build(
                dict(
                    type='LSDMultiTaskClassifier',
                    backbone=dict(type='ResNet', depth=18, base_channels=4),
                    head=dict(
                        type='LSDMultiTaskHead',
                        num_classes=6,
                        in_channels=32,
                        appearance_channels=8,
                    ),
                    neck=dict(type='DANAttentionNeck', in_channels=32),
                )
            )

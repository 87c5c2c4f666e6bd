# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import json
import math
import os.path as osp
from unittest import TestCase

import torch
from mmengine.evaluator import Evaluator
from mmpretrain.registry import METRICS
from mmpretrain.structures import DataSample

import fer_mm  # noqa: F401
from fer_mm.evaluation import FERMetric

# A fixed confusion matrix over 4 classes (rows: truth, cols: prediction).
# Class 2 is never predicted; class 3 never occurs in the ground truth.
CM = [[3, 1, 0, 1], [1, 2, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]]


def labels_from_cm(cm):
    pred, target = [], []
    for i, row in enumerate(cm):
        for j, n in enumerate(row):
            target += [i] * n
            pred += [j] * n
    return torch.tensor(pred), torch.tensor(target)


class TestFERMetric(TestCase):
    def test_calculate_by_hand(self):
        pred, target = labels_from_cm(CM)
        res = FERMetric.calculate(pred, target, num_classes=4)
        self.assertEqual(res['confusion_matrix'].tolist(), CM)
        # accuracy = (3 + 2 + 0) / 10
        self.assertAlmostEqual(res['accuracy'], 50.0)
        # precision: 3/5, 2/4, 0 (never predicted), 0/1
        for got, want in zip(res['precision'], [60.0, 50.0, 0.0, 0.0]):
            self.assertAlmostEqual(got, want)
        # recall: 3/5, 2/3, 0/2, undefined (absent from ground truth)
        self.assertAlmostEqual(res['recall'][0], 60.0)
        self.assertAlmostEqual(res['recall'][1], 200 / 3)
        self.assertAlmostEqual(res['recall'][2], 0.0)
        self.assertTrue(math.isnan(res['recall'][3]))
        # average accuracy over the 3 classes present: (0.6 + 2/3 + 0) / 3
        self.assertAlmostEqual(res['average_accuracy'], (60 + 200 / 3 + 0) / 3)
        # F1: 0.6, 2*0.5*(2/3)/(0.5+2/3) = 4/7, 0, 0; macro over 4 classes
        f1 = [0.6, 4 / 7, 0.0, 0.0]
        for got, want in zip(res['f1'], f1):
            self.assertAlmostEqual(got, want * 100)
        self.assertAlmostEqual(res['macro_f1'], sum(f1) / 4 * 100)
        self.assertEqual(res['support'], [5, 3, 2, 0])
        # macro precision over the 4 classes: (0.6 + 0.5 + 0 + 0) / 4
        self.assertAlmostEqual(res['macro_precision'], 27.5)
        self.assertTrue(math.isnan(res['mAP']))  # labels only: no scores

    def test_class_subset(self):
        pred, target = labels_from_cm(CM)
        res = FERMetric.calculate(pred, target, 4, class_subset=[0, 1])
        # accuracy over samples whose truth is in {0, 1}: 5 / 8
        self.assertAlmostEqual(res['accuracy'], 62.5)
        self.assertAlmostEqual(res['macro_f1'], (0.6 + 4 / 7) / 2 * 100)
        self.assertEqual(len(res['f1']), 2)

    def test_scores_confidence_and_map(self):
        scores = torch.tensor(
            [
                [0.7, 0.2, 0.1],
                [0.1, 0.6, 0.3],
                [0.5, 0.4, 0.1],
                [0.2, 0.2, 0.6],
            ]
        )
        target = torch.tensor([0, 1, 1, 2])
        res = FERMetric.calculate(scores, target)
        self.assertAlmostEqual(res['accuracy'], 75.0)
        self.assertAlmostEqual(
            res['conf_correct'], (70 + 60 + 60) / 3, places=4
        )
        self.assertAlmostEqual(res['conf_wrong'], 50.0, places=4)
        # AP per class: c0 ranks its positive first -> 1; c1 positives at
        # ranks 1 and 2 of scores (0.6, 0.4, 0.2, 0.2) -> 1; c2 -> 1.
        self.assertAlmostEqual(res['mAP'], 100.0, places=4)
        # macro precision is of the labels, not the scores: predictions
        # 0, 1, 0, 2 -> P = 1/2, 1/1, 1/1 -> 83.33, while mAP is 100
        self.assertAlmostEqual(res['macro_precision'], 250 / 3, places=4)

    def test_evaluator_whole_set_and_png(self):
        import tempfile

        pred, target = labels_from_cm(CM[:3])
        scores = torch.nn.functional.one_hot(pred, 4).float()
        with tempfile.TemporaryDirectory() as tmp:
            metric = METRICS.build(
                dict(type='FERMetric', out_dir=tmp, per_class=True)
            )
            evaluator = Evaluator(metric)
            evaluator.dataset_meta = dict(classes=('a', 'b', 'c', 'd'))
            # Uneven batches: a per-batch average would differ.
            for lo, hi in ((0, 3), (3, 4), (4, 10)):
                samples = [
                    DataSample()
                    .set_pred_score(scores[i])
                    .set_gt_label(int(target[i]))
                    for i in range(lo, hi)
                ]
                evaluator.process([s.to_dict() for s in samples])
            out = evaluator.evaluate(10)
            self.assertAlmostEqual(out['fer/accuracy'], 50.0)
            self.assertAlmostEqual(out['fer/f1/b'], 4 / 7 * 100)
            # both precision summaries, under distinct names
            self.assertAlmostEqual(
                out['fer/macro_precision'], (60 + 50 + 0 + 0) / 4
            )
            self.assertIn('fer/mAP', out)
            self.assertIn('fer/recall/d', out)
            self.assertTrue(
                osp.getsize(osp.join(tmp, 'confusion_matrix.png')) > 0
            )
            with open(osp.join(tmp, 'fer_metrics.json')) as f:
                dumped = json.load(f)
            self.assertEqual(dumped['confusion_matrix'], CM)

    def test_default_log_keys_are_the_summaries(self):
        import tempfile

        pred, target = labels_from_cm(CM[:3])
        scores = torch.nn.functional.one_hot(pred, 4).float()
        with tempfile.TemporaryDirectory() as tmp:
            evaluator = Evaluator(
                METRICS.build(dict(type='FERMetric', out_dir=tmp))
            )
            evaluator.dataset_meta = dict(classes=('a', 'b', 'c', 'd'))
            samples = [
                DataSample()
                .set_pred_score(scores[i])
                .set_gt_label(int(target[i]))
                for i in range(10)
            ]
            evaluator.process([s.to_dict() for s in samples])
            out = evaluator.evaluate(10)
            summaries = (
                'accuracy average_accuracy macro_f1 macro_precision mAP '
                'conf_correct conf_wrong'
            ).split()
            self.assertEqual(
                sorted(out), sorted(f'fer/{k}' for k in summaries)
            )
            # The per-class values are still written.
            with open(osp.join(tmp, 'fer_metrics.json')) as f:
                dumped = json.load(f)
            self.assertAlmostEqual(dumped['f1'][1], 4 / 7 * 100)
            self.assertEqual(len(dumped['recall']), 4)

    def test_bad_subset(self):
        metric = FERMetric(class_subset=['Joy'])
        metric.dataset_meta = dict(classes=('a', 'b'))
        metric.results = [
            dict(pred_score=torch.tensor([0.5, 0.5]), gt_label=0)
        ]
        with self.assertRaisesRegex(ValueError, "'Joy' is not a class"):
            metric.compute_metrics(metric.results)

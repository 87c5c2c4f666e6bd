# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpretrain.evaluation.metrics import AveragePrecision, ConfusionMatrix
from mmpretrain.registry import METRICS


@METRICS.register_module()
class FERMetric(BaseMetric):
    r"""The metrics facial-expression papers report, over the whole set.

    Everything is computed from the predictions of the *whole* evaluation set
    (never averaged over batches). With the confusion matrix
    :math:`M_{ij}` (ground truth :math:`i`, prediction :math:`j`) over the
    evaluated classes :math:`S`:

    .. math::
        \text{accuracy} = \frac{\sum_i M_{ii}}{\sum_{ij} M_{ij}}, \quad
        P_c = \frac{M_{cc}}{\sum_i M_{ic}}, \quad
        R_c = \frac{M_{cc}}{\sum_j M_{cj}}, \quad
        F1_c = \frac{2 P_c R_c}{P_c + R_c}

    * ``average_accuracy``: the mean of :math:`R_c` over the classes of
      :math:`S` present in the ground truth (mean of the normalised
      confusion-matrix diagonal, a.k.a. macro recall);
    * ``macro_f1``: the mean of :math:`F1_c` over all classes of :math:`S`
      (the ABAW expression metric). A ratio with a zero denominator counts as
      0, as in ``sklearn.metrics.f1_score(average='macro', zero_division=0)``;
    * ``macro_precision``: the mean of :math:`P_c` over all classes of
      :math:`S` (zero denominators count as 0, as
      ``sklearn.metrics.precision_score(average='macro', zero_division=0)``);
      computed from the predicted labels;
    * ``mAP``: mean *average precision*, i.e. the mean over the classes of
      :math:`S` present in the ground truth of the one-vs-rest area under the
      precision-recall curve of the scores (mmpretrain's
      ``AveragePrecision``); computed from the scores, so it differs from
      ``macro_precision``. Papers that print "mAP" next to accuracy (e.g.
      the VAE-GAN augmentation paper) may mean either: both are reported;
    * ``conf_correct`` / ``conf_wrong``: mean top-1 softmax score of correct
      and wrong predictions (NaN when there is none);
    * per class (``per_class=True``): ``precision/<class>``,
      ``recall/<class>``, ``f1/<class>``. Off by default, so that a
      validation log line holds the 7 summaries above rather than about 30
      values; the per-class lists are always in ``fer_metrics.json``.

    Percentages are in [0, 100]. When ``out_dir`` is given, the confusion
    matrix is also written there as ``confusion_matrix.png`` (row-normalised)
    and every value as ``fer_metrics.json``. ``tools/train.py`` and
    ``tools/test.py`` point ``out_dir`` at the work dir.

    Args:
        class_subset (Sequence[int | str], optional): Evaluate these classes
            only (by index or by name): accuracy over the samples whose
            ground truth is in the subset, the averages over the subset.
            Predictions are not restricted. Defaults to None (all classes).
        per_class (bool): Also return per-class precision / recall / F1
            (logged and sent to the visualisation backends). Defaults to
            False (they are in ``fer_metrics.json`` when ``out_dir`` is
            set).
        out_dir (str, optional): Where to write the confusion-matrix PNG and
            the JSON. Defaults to None (nothing written).
        collect_device (str): Device used to collect results across ranks.
            Defaults to 'cpu'.
        prefix (str, optional): Prefix of the metric names. Defaults to
            'fer'.

    Examples:
        >>> import torch
        >>> from fer_mm.evaluation import FERMetric
        >>> pred = torch.tensor([0, 1, 1, 2])
        >>> target = torch.tensor([0, 1, 2, 2])
        >>> res = FERMetric.calculate(pred, target, num_classes=3)
        >>> round(res['accuracy'], 2), round(res['average_accuracy'], 2)
        (75.0, 83.33)
    """

    default_prefix: Optional[str] = 'fer'

    def __init__(
        self,
        class_subset: Optional[Sequence[Union[int, str]]] = None,
        per_class: bool = False,
        out_dir: Optional[str] = None,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.class_subset = class_subset
        self.per_class = per_class
        self.out_dir = out_dir

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = sample['gt_label']
            if gt.numel() != 1:
                raise ValueError(
                    'FERMetric expects one hard ground-truth label per '
                    f'sample, got gt_label of shape {tuple(gt.shape)}'
                )
            self.results.append(
                dict(
                    pred_score=sample['pred_score'].detach().float().cpu(),
                    gt_label=int(gt.item()),
                )
            )

    def _subset_indices(
        self, num_classes: int, classes: Optional[Sequence[str]]
    ) -> List[int]:
        if self.class_subset is None:
            return list(range(num_classes))
        indices = []
        for c in self.class_subset:
            if isinstance(c, str):
                if not classes or c not in classes:
                    raise ValueError(
                        f'FERMetric: class_subset entry {c!r} is not a class '
                        f'of the dataset ({list(classes or [])})'
                    )
                c = list(classes).index(c)
            if not 0 <= int(c) < num_classes:
                raise ValueError(
                    f'FERMetric: class_subset index {c} out of '
                    f'range 0..{num_classes - 1}'
                )
            indices.append(int(c))
        return indices

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        scores = torch.stack([r['pred_score'] for r in results])
        target = torch.tensor([r['gt_label'] for r in results])
        classes = (self.dataset_meta or {}).get('classes')
        num_classes = scores.size(1)
        subset = self._subset_indices(num_classes, classes)
        res = self.calculate(scores, target, num_classes, subset)

        names = [classes[i] if classes else str(i) for i in subset]
        metrics = {
            k: res[k]
            for k in (
                'accuracy',
                'average_accuracy',
                'macro_f1',
                'macro_precision',
                'mAP',
                'conf_correct',
                'conf_wrong',
            )
        }
        if self.per_class:
            for key in ('precision', 'recall', 'f1'):
                for name, value in zip(names, res[key]):
                    metrics[f'{key}/{name}'] = value
        if self.out_dir:
            self._dump(res, names, classes)
        return metrics

    def _dump(
        self, res: dict, names: List[str], classes: Optional[Sequence[str]]
    ) -> None:
        os.makedirs(self.out_dir, exist_ok=True)
        cm = res['confusion_matrix']
        with open(osp.join(self.out_dir, 'fer_metrics.json'), 'w') as f:
            json.dump(
                dict(
                    {k: v for k, v in res.items() if k != 'confusion_matrix'},
                    classes=list(classes) if classes else None,
                    evaluated_classes=names,
                    confusion_matrix=cm.tolist(),
                ),
                f,
                indent=2,
            )
        path = osp.join(self.out_dir, 'confusion_matrix.png')
        save_confusion_matrix(cm, path, classes)
        MMLogger.get_current_instance().info(f'confusion matrix -> {path}')

    @staticmethod
    def calculate(
        pred: torch.Tensor,
        target: torch.Tensor,
        num_classes: Optional[int] = None,
        class_subset: Optional[Sequence[int]] = None,
    ) -> dict:
        """Compute every metric from scores (or labels) and targets.

        Args:
            pred (torch.Tensor): Scores ``(N, C)`` or predicted labels
                ``(N,)``.
            target (torch.Tensor): Ground-truth labels ``(N,)``.
            num_classes (int, optional): Needed when ``pred`` holds labels.
            class_subset (Sequence[int], optional): Classes to evaluate.
                Defaults to all.

        Returns:
            dict: Scalars (``accuracy``, ``average_accuracy``, ``macro_f1``,
            ``macro_precision``, ``mAP`` [NaN without scores], ``conf_correct``, ``conf_wrong``),
            per-class lists over the subset (``precision``, ``recall`` [NaN
            for a class absent from the ground truth], ``f1``, ``support``)
            and the full ``confusion_matrix`` (C x C tensor).
        """
        pred = torch.as_tensor(pred)
        target = torch.as_tensor(target).long().flatten()
        scores = None
        if pred.ndim == 2:
            scores = pred.float()
            num_classes = pred.size(1)
            pred_label = pred.argmax(1)
        else:
            if num_classes is None:
                raise ValueError('num_classes is needed with label preds')
            pred_label = pred.long().flatten()
        if pred_label.numel() != target.numel():
            raise ValueError(
                f'{pred_label.numel()} predictions for '
                f'{target.numel()} targets'
            )
        subset = (
            list(range(num_classes))
            if class_subset is None
            else list(class_subset)
        )
        cm = ConfusionMatrix.calculate(pred_label, target, num_classes)
        cm = cm.double()
        sub = torch.tensor(subset)
        tp = cm.diagonal()[sub]
        pred_pos = cm[:, sub].sum(0)
        support = cm[sub, :].sum(1)

        def ratio(num, den):
            out = torch.zeros_like(num)
            nz = den > 0
            out[nz] = num[nz] / den[nz]
            return out

        precision = ratio(tp, pred_pos)
        recall = ratio(tp, support)
        f1 = ratio(2 * precision * recall, precision + recall)
        present = support > 0
        in_subset = torch.isin(target, sub)
        correct = pred_label == target
        n_eval = int(in_subset.sum())
        acc = float(correct[in_subset].sum()) / n_eval * 100 if n_eval else 0.0
        res = dict(
            accuracy=acc,
            average_accuracy=float(recall[present].mean() * 100)
            if present.any()
            else float('nan'),
            macro_f1=float(f1.mean() * 100),
            macro_precision=float(precision.mean() * 100),
            precision=(precision * 100).tolist(),
            recall=torch.where(
                present, recall * 100, torch.full_like(recall, float('nan'))
            ).tolist(),
            f1=(f1 * 100).tolist(),
            support=support.long().tolist(),
            confusion_matrix=cm.long(),
            mAP=float('nan'),
            conf_correct=float('nan'),
            conf_wrong=float('nan'),
        )
        if scores is not None:
            one_hot = torch.nn.functional.one_hot(target, num_classes)
            ap = AveragePrecision.calculate(scores, one_hot, average=None)
            if present.any():
                res['mAP'] = float(ap[sub][present].mean())
            probs = scores
            if (
                not torch.allclose(
                    scores.sum(1), torch.ones(len(scores)), atol=1e-3
                )
                or (scores < 0).any()
            ):
                probs = scores.softmax(1)
            conf = probs.max(1).values * 100
            if correct.any():
                res['conf_correct'] = float(conf[correct].mean())
            if (~correct).any():
                res['conf_wrong'] = float(conf[~correct].mean())
        return res


def save_confusion_matrix(
    cm: Union[torch.Tensor, np.ndarray],
    path: str,
    classes: Optional[Sequence[str]] = None,
) -> None:
    """Write a row-normalised confusion matrix (with counts) as a PNG."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    cm = torch.as_tensor(cm).double()
    rows = cm.sum(1, keepdim=True).clamp(min=1)
    fig = ConfusionMatrix.plot(
        (cm / rows * 100).round().long(),
        include_values=True,
        cmap='Blues',
        classes=list(classes) if classes else None,
        colorbar=True,
        show=False,
    )
    fig.axes[0].set_title('Confusion matrix (% of each true class)')
    fig.savefig(path, dpi=80, bbox_inches='tight')
    plt.close(fig)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS

from ...datasets.categories import AFFWILD2_CATEGORIES, label_mapping


def write_abaw_expr_predictions(
    out_dir: str,
    predictions: Dict[str, Dict[int, int]],
    classes: Sequence[str] = AFFWILD2_CATEGORIES,
) -> List[str]:
    """Write ABAW expression-track prediction files, one per video.

    Each file ``<out_dir>/<video>.txt`` has the header
    ``image_location,Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,
    Other`` and one row ``<video>/<frame:05d>.jpg,<label>`` per frame, in
    frame order, with labels in Aff-Wild2's order.

    Args:
        out_dir (str): Output folder (created).
        predictions (dict): ``{video: {frame_number: label}}`` with labels
            in the order of ``classes``.
        classes (Sequence[str]): The class order of the labels; mapped by
            name onto Aff-Wild2's order. Defaults to Aff-Wild2's.

    Returns:
        list[str]: The written files.
    """
    mapping = label_mapping(classes, AFFWILD2_CATEGORIES, strict=True)
    header = 'image_location,' + ','.join(AFFWILD2_CATEGORIES)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for video in sorted(predictions):
        path = osp.join(out_dir, f'{video}.txt')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(header + '\n')
            for frame in sorted(predictions[video]):
                label = int(mapping[predictions[video][frame]])
                f.write(f'{video}/{frame:05d}.jpg,{label}\n')
        written.append(path)
    return written


@METRICS.register_module()
class ABAWExprSubmission(BaseMetric):
    """Write ABAW expression-track prediction files while evaluating.

    Collects the predicted label of every frame (from ``img_path``:
    ``.../<video>/<frame>.jpg``) and writes one file per video with
    :func:`write_abaw_expr_predictions`. Use it next to :class:`FERMetric`
    in ``test_evaluator``; a model with another class order (e.g. LSD's 6
    classes) is mapped onto Aff-Wild2's by class name.

    Args:
        out_dir (str): Folder of the prediction files.
        collect_device (str): Device to collect results. Defaults to 'cpu'.
        prefix (str, optional): Metric prefix. Defaults to 'abaw'.
    """

    default_prefix: Optional[str] = 'abaw'

    def __init__(
        self,
        out_dir: str,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.out_dir = out_dir

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            path = sample['img_path']
            video = osp.basename(osp.dirname(path))
            frame = int(osp.splitext(osp.basename(path))[0])
            self.results.append((video, frame, int(sample['pred_label'])))

    def compute_metrics(self, results: list) -> dict:
        preds: Dict[str, Dict[int, int]] = defaultdict(dict)
        for video, frame, label in results:
            preds[video][frame] = label
        classes = (self.dataset_meta or {}).get('classes', AFFWILD2_CATEGORIES)
        files = write_abaw_expr_predictions(self.out_dir, preds, classes)
        MMLogger.get_current_instance().info(
            f'ABAW predictions for {len(results)} frames of {len(files)} '
            f'videos -> {self.out_dir}'
        )
        return dict(num_frames=len(results), num_videos=len(files))

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import os.path as osp

import torch
from mmpretrain.registry import METRICS
from mmpretrain.structures import DataSample

import fer_mm  # noqa: F401
from fer_mm.datasets import LSD_CATEGORIES
from fer_mm.evaluation import write_abaw_expr_predictions


def test_writer_format(tmp_path):
    files = write_abaw_expr_predictions(
        str(tmp_path), {'v1_left': {2: 4, 1: 0}, 'v0': {7: 7}}
    )
    assert [osp.basename(f) for f in files] == ['v0.txt', 'v1_left.txt']
    lines = open(files[1]).read().splitlines()
    assert lines == [
        'image_location,Neutral,Anger,Disgust,Fear,Happiness,Sadness,'
        'Surprise,Other',
        'v1_left/00001.jpg,0',
        'v1_left/00002.jpg,4',
    ]


def test_metric_maps_other_vocabularies(tmp_path):
    metric = METRICS.build(
        dict(type='ABAWExprSubmission', out_dir=str(tmp_path))
    )
    metric.dataset_meta = dict(classes=LSD_CATEGORIES)
    samples = []
    for frame, label in ((2, 0), (1, 5)):
        s = DataSample().set_pred_label(torch.tensor([label]))
        s.set_metainfo(
            dict(img_path=f'/data/cropped_aligned/v1/{frame:05d}.jpg')
        )
        samples.append(s.to_dict())
    metric.process(None, samples)
    out = metric.evaluate(2)
    assert out == {'abaw/num_frames': 2, 'abaw/num_videos': 1}
    # LSD Anger(0) -> Aff-Wild2 Anger(1); LSD Surprise(5) -> 6
    assert open(tmp_path / 'v1.txt').read().splitlines()[1:] == [
        'v1/00001.jpg,6',
        'v1/00002.jpg,1',
    ]

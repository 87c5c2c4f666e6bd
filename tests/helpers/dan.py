# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Shared DAN test helpers: a classifier config and labelled samples."""

from mmpretrain.structures import DataSample


def dan_cfg(num_classes=7, num_heads=4, in_channels=512, backbone=None):
    return dict(
        type='ImageClassifier',
        backbone=backbone or dict(type='ResNet', depth=18, out_indices=(3,)),
        neck=dict(
            type='DANAttentionNeck',
            in_channels=in_channels,
            num_heads=num_heads,
        ),
        head=dict(
            type='DANHead', num_classes=num_classes, in_channels=in_channels
        ),
    )


def samples(labels):
    return [DataSample().set_gt_label(y) for y in labels]

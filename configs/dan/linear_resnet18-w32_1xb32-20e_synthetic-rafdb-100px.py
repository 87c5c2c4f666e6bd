# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The baseline of the second DAN occlusion / pose study (README.md, "Study:
# occlusion and pose, second plan"): the half-width ResNet-18 of
# dan_resnet18-w32_1xb32-20e_synthetic-rafdb-100px.py with global average
# pooling and one linear layer, cross-entropy only; data, input size
# (100x100), batch, optimiser and schedule are those of the DAN config.
_base_ = ['./dan_resnet18-w32_1xb32-20e_synthetic-rafdb-100px.py']
model = dict(
    _delete_=True,
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        base_channels=32,
        stem_channels=32,
        out_indices=(3,),
        style='pytorch',
    ),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=7,
        in_channels=256,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1,),
    ),
)

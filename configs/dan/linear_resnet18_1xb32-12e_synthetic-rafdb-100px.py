# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The baseline of the DAN occlusion / pose study (README.md, "Study:
# occlusion and pose"): DAN's ResNet-18 with global average pooling and one
# linear layer, cross-entropy only (mmpretrain's resnet18 model with 7
# classes); data, input size (100x100), batch, optimiser and schedule are
# those of dan_resnet18_1xb32-12e_synthetic-rafdb-100px.py.
_base_ = ['./dan_resnet18_1xb32-12e_synthetic-rafdb-100px.py']
model = dict(
    _delete_=True,
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(3,),
        style='pytorch',
    ),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=7,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1,),
    ),
)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The baseline of the ARBEx label-noise study (README.md, "Study: label
# noise"): the same ResNet-18, data, optimiser and schedule as
# arbex_resnet18_1xb64-12e_synthetic-rafdb.py, with global pooling, one
# linear layer and cross-entropy weighted by the same RAF-DB class weights
# (so that the comparison isolates ARBEx's anchors, attention and
# reliability balancing from the class weighting).
_base_ = ['./arbex_resnet18_1xb64-12e_synthetic-rafdb.py']
model = dict(
    head=dict(
        _delete_=True,
        type='LinearClsHead',
        num_classes=7,
        in_channels=512,
        loss=dict(
            type='CrossEntropyLoss',
            loss_weight=1.0,
            class_weight={{_base_.model.head.class_weights}},
        ),
        topk=(1,),
    )
)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The ARBEx label-noise study from a pretrained backbone (README.md, "Study:
# label noise from a pretrained backbone"): the ARBEx head of
# arbex-unweighted_resnet18_1xb64-12e_synthetic-rafdb.py (one linear primary
# layer, K = 10 anchors, no class weights) on the half-width ResNet-18 of
# the DAN study from a pretrained backbone, initialised from the same
# pretraining checkpoint and fine-tuned with the data pipeline (100x100),
# optimiser and 10-epoch schedule of its baseline,
# ../dan/linear_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py.
_base_ = [
    '../dan/linear_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py'
]
model = dict(
    type='FERClassifier',
    head=dict(
        _delete_=True,
        type='ARBExHead',
        num_classes=7,
        in_channels=256,
        hidden_channels=(),
        num_anchors=10,
        class_weights=None,
    ),
)

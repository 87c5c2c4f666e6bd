# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# linear_resnet18_1xb64-12e_synthetic-rafdb.py with plain (unweighted)
# cross-entropy: the baseline of the follow-up of the label-noise study
# (README.md, "Follow-up: label noise without class weights").
_base_ = ['./linear_resnet18_1xb64-12e_synthetic-rafdb.py']
model = dict(
    head=dict(
        loss=dict(_delete_=True, type='CrossEntropyLoss', loss_weight=1.0)
    )
)

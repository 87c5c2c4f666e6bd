# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# arbex_resnet18_1xb64-12e_synthetic-rafdb.py without class weights: the
# config of the follow-up of the label-noise study (README.md, "Follow-up:
# label noise without class weights"); its baseline is
# linear-unweighted_resnet18_1xb64-12e_synthetic-rafdb.py.
_base_ = ['./arbex_resnet18_1xb64-12e_synthetic-rafdb.py']
model = dict(head=dict(class_weights=None))

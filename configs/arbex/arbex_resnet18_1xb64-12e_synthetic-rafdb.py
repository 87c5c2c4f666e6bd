# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The ARBEx head of arbex_resnet18_1xb64-8e_synthetic-rafdb.py (one linear
# primary layer, K = 10 anchors, RAF-DB class weights) trained for 12 epochs
# instead of 8: the config of the label-noise study (README.md, "Study:
# label noise"). Its baseline is linear_resnet18_1xb64-12e_synthetic-rafdb.py.
_base_ = ['./arbex_resnet18_1xb64-8e_synthetic-rafdb.py']
param_scheduler = [
    dict(
        type='CosineAnnealingLR', by_epoch=True, begin=0, end=12, eta_min=1e-5
    )
]
train_cfg = dict(max_epochs=12, val_interval=12)

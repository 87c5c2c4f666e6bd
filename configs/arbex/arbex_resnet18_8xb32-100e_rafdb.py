# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The ARBEx head on a plain mmpretrain ResNet-18 (the head works on any
# backbone/neck that gives a feature vector).
_base_ = ['./arbex_posterv2_8xb32-285e_rafdb.py']
model = dict(
    backbone=dict(
        _delete_=True, type='ResNet', depth=18, num_stages=4, out_indices=(3,)
    ),
    neck=dict(_delete_=True, type='GlobalAveragePooling'),
    head=dict(in_channels=512),
)
# 100 epochs (the file name); the POSTER V2 config follows the paper's
# 285-pass schedule.
train_cfg = dict(max_epochs=100)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# RAF-DB basic at its native 100x100 (aligned faces), batch 32, no flip:
# the setting of the MixAugment study (Psaroudakis & Kollias, CVPRW 2022).
_base_ = ['./rafdb_bs64.py']
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(100, 100)),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(100, 100)),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

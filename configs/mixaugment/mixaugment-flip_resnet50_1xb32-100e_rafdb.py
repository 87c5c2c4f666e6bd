# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# MixAugment + horizontal flipping (the paper's best RAF-DB setting).
_base_ = ['./mixaugment_resnet50_1xb32-100e_rafdb.py']
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(100, 100)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

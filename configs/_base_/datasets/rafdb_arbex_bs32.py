# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# RAF-DB with ARBEx's augmentation: resize 256, random crop 224, flip,
# colour jitter, random erasing; shuffled, not class-balanced: the ARBEx
# reference (train.py) balances through the class weights of its loss only
# (w_c = (N / C) / n_c over the full training set), with a shuffled loader.
# A class-balanced sampler on top would rebalance twice.
_base_ = ['./rafdb_bs64.py']
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 256)),
    dict(type='RandomCrop', crop_size=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.3, contrast=0.3, saturation=0.3),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=0.25,
    ),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    dataset=dict(pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

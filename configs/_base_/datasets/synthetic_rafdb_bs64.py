# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The built-in synthetic set in the RAF-DB layout (tools/misc/generate_synthetic.py),
# read by the real RAFDB loader, at 64x64 for quick CPU runs.
_base_ = ['./rafdb_bs64.py']
data_root = 'data/synthetic_rafdb'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.8, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    num_workers=1, dataset=dict(data_root=data_root, pipeline=train_pipeline)
)
val_dataloader = dict(
    num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline)
)
test_dataloader = val_dataloader

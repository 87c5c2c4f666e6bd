# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The paper's classifier recipe on RAF-DB basic: ResNet-34, 40 epochs,
# class-balanced sampling, augmentation ratio 0.5 (half of the drawn samples
# replaced by VAE-GAN images of the same class), original data only in the
# last 5 epochs ("the last few epochs": the number is ours). Generate the tree
# with tools/generative/vaegan_generate.py from configs/vaegan/
# vaegan_64x64_rafdb.py (see README.md).
_base_ = [
    '../_base_/models/resnet18_fer.py',
    '../_base_/datasets/rafdb_bs64.py',
    '../_base_/schedules/fer_adam_30e.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(depth=34))

data_root = 'data/rafdb'
generated_root = 'work_dirs/vaegan_generated/rafdb'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=0.25,
    ),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='GeneratedMixDataset',
        original=dict(type='RAFDB', data_root=data_root, split='train'),
        generated=dict(type='RAFDB', data_root=generated_root, split='train'),
        pipeline=train_pipeline,
    ),
    sampler=dict(type='GeneratedMixSampler', ratio=0.5, _delete_=True),
)
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='OriginalDataOnlyHook', last_epochs=5),
]
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True,
    ),
    dict(
        type='CosineAnnealingLR', by_epoch=True, begin=1, end=40, eta_min=1e-5
    ),
]
train_cfg = dict(max_epochs=40, val_interval=5)

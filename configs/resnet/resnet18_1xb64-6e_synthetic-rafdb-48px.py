# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The demo (`make demo`): ResNet-18 from scratch on the built-in synthetic set
# (RAF-DB layout) at 48x48, 6 epochs, sized to finish in about 5 minutes on a
# 2-core AVX2-only CPU in float32 (faster with native bf16 and --amp). One
# validation, after the last epoch; tools/test.py then evaluates that checkpoint.
# The longer 64x64 / 30-epoch recipe: resnet18_1xb64-30e_synthetic-rafdb.py.
_base_ = ['./resnet18_1xb64-30e_synthetic-rafdb.py']

size = 48
max_epochs = 6
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=size, crop_ratio_range=(0.8, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(size, size)),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

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
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=1,
        end=max_epochs,
        eta_min=1e-5,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='AtomicCheckpointHook',
        interval=max_epochs,
        max_keep_ckpts=1,
        save_best=None,
    ),
)
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='DatasetFingerprintHook'),
    dict(type='ProgressBarHook'),
]

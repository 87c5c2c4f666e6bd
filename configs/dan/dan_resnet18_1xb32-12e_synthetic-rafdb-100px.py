# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# DAN from scratch on the built-in synthetic set at its native 100x100, so
# that the attention heads see a 4x4 map (at 64x64 they see 2x2), batch 32,
# AdamW 1e-3 with one warm-up epoch and cosine decay, 12 epochs. The config
# of the occlusion / pose study (README.md, "Study: occlusion and pose");
# its baseline is linear_resnet18_1xb32-12e_synthetic-rafdb-100px.py, the
# same ResNet-18, data, optimiser and schedule with global pooling and a
# linear head.
_base_ = ['./dan_resnet18_1xb64-30e_synthetic-rafdb.py']
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=100, crop_ratio_range=(0.8, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(100, 100)),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
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
        type='CosineAnnealingLR', by_epoch=True, begin=1, end=12, eta_min=1e-5
    ),
]
train_cfg = dict(max_epochs=12, val_interval=12)
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(checkpoint=dict(save_best=None, max_keep_ckpts=1))

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# ARBEx on Aff-Wild2 (ABAW expression track, 8 classes) with the paper's
# per-epoch data refinement: <= 512 frames per video, then 500 per class.
_base_ = [
    '../_base_/models/arbex_posterv2.py',
    '../_base_/datasets/affwild2_bs64.py',
    '../_base_/schedules/arbex_adam.py',
    '../_base_/default_runtime.py',
]
model = dict(head=dict(num_classes=8, class_weights=None))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 256)),
    dict(type='RandomCrop', crop_size=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.3, contrast=0.3, saturation=0.3),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    dataset=dict(pipeline=train_pipeline),
    sampler=dict(
        type='VideoRefinementSampler',
        frames_per_video=512,
        samples_per_class=500,
    ),
)
# The paper's schedule (_base_/schedules/arbex_adam.py): Adam 3e-4, x0.995
# per epoch; 100 epochs.

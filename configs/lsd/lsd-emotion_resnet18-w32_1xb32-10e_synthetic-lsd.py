# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The emotion branch alone (no appearance branch, no landmark loss) at the
# budget of lsd-mtl_resnet18-w32_1xb32-10e_synthetic-lsd.py: same backbone,
# DAN neck and head, shared layer, data, augmentation of the emotion view,
# schedule and seed handling; the one difference is the missing branch.
_base_ = ['./lsd-mtl_resnet18-w32_1xb32-10e_synthetic-lsd.py']

model = dict(appearance_backbone=None)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(48, 48)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.3, contrast=0.3, saturation=0.3),
    dict(type='RandomErasing', erase_prob=0.25, max_area_ratio=0.25),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    dataset=dict(landmark_file=None, pipeline=train_pipeline)
)

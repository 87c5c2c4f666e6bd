# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# Ablation: the emotion branch alone (narrow ResNet-18 + DAN + the same
# shared layers, weighted CE, schedule and emotion-view augmentation as
# lsd-mtl_resnet18-w8_1xb32-5e_synthetic-lsd.py), without the appearance
# branch and its landmark loss.
_base_ = ['./lsd-mtl_resnet18-w8_1xb32-5e_synthetic-lsd.py']
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

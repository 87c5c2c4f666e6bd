# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The second occlusion / pose study of README.md ("Study: occlusion and pose,
# second plan"): DAN on ResNet-18 at half width (base 32 channels, 256 out,
# so the neck's inner widths are 128 and 16), from scratch at 100x100 (a 4x4
# map for the attention heads), batch 32, AdamW 1e-3 with one warm-up epoch
# and cosine decay, 20 epochs. Its baseline is
# linear_resnet18-w32_1xb32-20e_synthetic-rafdb-100px.py: the same backbone,
# data, optimiser and schedule with global pooling and a linear head.
_base_ = ['./dan_resnet18_1xb32-12e_synthetic-rafdb-100px.py']
max_epochs = 20
model = dict(
    backbone=dict(base_channels=32, stem_channels=32),
    neck=dict(in_channels=256),
    head=dict(in_channels=256),
)
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
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)

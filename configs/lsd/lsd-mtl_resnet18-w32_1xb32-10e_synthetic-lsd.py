# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The budget of the synthetic LSD study in configs/lsd/README.md (multi-task vs
# the emotion branch alone; a bag of 5 x 20 % vs one model on 100 %): the LSD
# multi-task model with ResNet-18 at a quarter of the width (base 32 channels,
# 256 out) in both branches, from scratch, 48x48, batch 32, 10 epochs (one
# linear warm-up epoch, then cosine), CE weighted by the inverse class
# frequency of the training set. Data (3,135 training / 941 validation images):
#   python tools/misc/generate_synthetic.py data/synthetic_lsd_015 --layout lsd \
#       --scale 0.015 --val-fraction 0.3
_base_ = ['./lsd-mtl_resnet18-w8_1xb32-5e_synthetic-lsd.py']

data_root = 'data/synthetic_lsd_015'
# Training images per class at --scale 0.015 (Anger ... Surprise).
synthetic_lsd_counts = [373, 57, 96, 2016, 382, 211]
max_epochs = 10
quarter_resnet18 = dict(
    type='ResNet',
    depth=18,
    base_channels=32,
    stem_channels=32,
    out_indices=(3,),
    style='pytorch',
)
model = dict(
    backbone=quarter_resnet18,
    appearance_backbone=quarter_resnet18,
    head=dict(
        shared_channels=(256,),
        loss_cls=dict(
            class_weight=[
                sum(synthetic_lsd_counts) / (6 * n)
                for n in synthetic_lsd_counts
            ]
        ),
    ),
)
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
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
    logger=dict(interval=50),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1, save_best=None),
)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# POSTER V2 on RAF-DB, the reference recipe (Talented-Q/POSTER_V2 main.py,
# README's RAF-DB command): CE, SAM(Adam, rho 0.05, no weight decay),
# lr 3.5e-5, ExponentialLR 0.98 per epoch, 200 epochs, batch 144
# (here 8 GPUs x 18, SyncBN so BatchNorm sees the whole 144 as on the
# reference's single GPU), resize 224 + flip + RandomErasing(p 0.5,
# scale 0.02-0.1), shuffled (no class balancing).
#   tools/dist_train.sh configs/poster_v2/posterv2_8xb18-200e_rafdb.py 8
# Differences from the reference: configs/poster_v2/README.md.
_base_ = [
    '../_base_/models/posterv2_7cls.py',
    '../_base_/datasets/rafdb_bs64.py',
    '../_base_/default_runtime.py',
]
# The reference's pretrained streams (ir50.pth and
# mobilefacenet_model_best.pth.tar of Talented-Q/POSTER_V2's README),
# converted once with tools/model_converters/poster_to_fermm.py; a missing
# file stops training with the command that makes it
# (docs/en/user_guides/pretrained_parts.md).
model = dict(
    backbone=dict(
        ir50_init_cfg=dict(
            _delete_=True,
            type='Pretrained',
            checkpoint='checkpoints/ir50_fermm.pth',
        ),
        landmark_init_cfg=dict(
            _delete_=True,
            type='Pretrained',
            checkpoint='checkpoints/mobilefacenet_fermm.pth',
        ),
    )
)
# torchvision: Resize((224, 224)), RandomHorizontalFlip(), ToTensor,
# Normalize(ImageNet), RandomErasing(scale=(0.02, 0.1)) with its defaults
# p=0.5, ratio=(0.3, 3.3), value=0 on the normalised tensor. Here erasing
# runs before the data preprocessor's normalisation and fills with the
# ImageNet mean (BGR, as LoadImageFromFile reads), which normalises to 0.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomErasing',
        erase_prob=0.5,
        mode='const',
        min_area_ratio=0.02,
        max_area_ratio=0.1,
        aspect_range=(0.3, 3.3),
        fill_color=(103.53, 116.28, 123.675),
    ),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=18,
    dataset=dict(pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(batch_size=144)
test_dataloader = val_dataloader
# SAM as the reference: SAM(model.parameters(), Adam, lr=..., rho=0.05,
# adaptive=False); --wd is parsed by main.py but never passed: no decay.
optim_wrapper = dict(
    type='SAMOptimWrapper',
    rho=0.05,
    adaptive=False,
    optimizer=dict(type='Adam', lr=3.5e-5, weight_decay=0.0),
)
param_scheduler = [dict(type='ExponentialLR', gamma=0.98, by_epoch=True)]
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# BatchNorm statistics over the global batch of 144 (the reference trains
# on one GPU). torch's SyncBatchNorm needs GPUs: a CPU (gloo) run falls
# back to BatchNorm over each process's batch and logs it.
sync_bn = 'torch'
auto_scale_lr = dict(base_batch_size=144)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# DAN on RAF-DB basic, the reference recipe (yaoing/DAN rafdb.py): MS-Celeb-1M
# ResNet-18, SGD lr 0.1 / momentum 0.9 / wd 1e-4, lr x0.1 every 10 epochs,
# 40 epochs, total batch 256 (8 GPUs x 32), 224x224.
_base_ = [
    '../_base_/models/dan_resnet18.py',
    '../_base_/datasets/rafdb_bs64.py',
    'mmpretrain::_base_/schedules/imagenet_bs256.py',
    '../_base_/default_runtime.py',
]

# MS-Celeb-1M ResNet-18 of the reference (models/resnet18_msceleb.pth there),
# converted with
#   python tools/model_converters/dan_to_fermm.py \
#       resnet18_msceleb.pth checkpoints/resnet18_msceleb_fermm.pth
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/resnet18_msceleb_fermm.pth',
            prefix='backbone.',
        )
    )
)

# The reference's torchvision pipeline, step by step:
# Resize((224, 224)), RandomHorizontalFlip(),
# RandomApply([RandomRotation(20), RandomCrop(224, padding=32)], p=0.2):
#   the same torchvision transforms, on a PIL image (exact);
# ImageNet normalisation: the data preprocessor;
# RandomErasing(p=0.5, scale=(0.02, 0.25), ratio=(0.3, 3.3), value=0) runs
#   there on the normalised tensor, so 0 is the mean colour; here it runs
#   before normalisation and fills with the ImageNet mean (approximation:
#   the erased area is drawn on the 224x224 image either way).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomApply',
        prob=0.2,
        transforms=[
            dict(type='NumpyToPIL', to_rgb=True),
            dict(type='torchvision/RandomRotation', degrees=20),
            dict(type='torchvision/RandomCrop', size=224, padding=32),
            dict(type='PILToNumpy', to_bgr=True),
        ],
    ),
    dict(
        type='RandomErasing',
        erase_prob=0.5,
        min_area_ratio=0.02,
        max_area_ratio=0.25,
        aspect_range=(0.3, 3.3),
        mode='const',
        fill_color=(103.53, 116.28, 123.675),  # ImageNet mean, BGR
    ),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=64)
test_dataloader = val_dataloader

# mmpretrain's ImageNet schedule is the reference's optimiser (SGD lr 0.1,
# momentum 0.9, weight decay 1e-4, total batch 256); its steps differ: torch
# StepLR(step_size=10, gamma=0.1), stepped once per epoch, 40 epochs. The
# reference evaluates every epoch and reports the best test accuracy.
param_scheduler = dict(
    _delete_=True, type='StepLR', by_epoch=True, step_size=10, gamma=0.1
)
train_cfg = dict(max_epochs=40)
# BatchNorm statistics over the global batch of 256, as the reference's
# single-GPU batch (yaoing/DAN trains on one device). torch's SyncBatchNorm
# needs GPUs: a CPU (gloo) run falls back to BatchNorm over 32 per process
# and logs it.
sync_bn = 'torch'

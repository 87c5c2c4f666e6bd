# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# DAN on AffectNet-8, the reference recipe (yaoing/DAN affectnet.py):
# MS-Celeb-1M ResNet-18, Adam lr 1e-4 (no weight decay), lr x0.6 every epoch,
# 10 epochs, total batch 256 (8 GPUs x 32), class-balanced sampling, 224x224.
#
# Data: AffectNet as distributed (fer_mm.datasets.AffectNet, layout='csv'):
#   data/affectnet/Manually_Annotated_file_lists/{training,validation}.csv
#   data/affectnet/Manually_Annotated_Images/<subDirectory>/<file>.jpg
# each image cropped to the CSV's face box (CropFaceBox), expression ids
# 0..7 (0 Neutral, 1 Happy, 2 Sad, 3 Surprise, 4 Fear, 5 Disgust, 6 Anger,
# 7 Contempt) kept and 8-10 (None, Uncertain, Non-Face) dropped and counted in
# the log. The reference's hand-made class-folder tree (torchvision
# ImageFolder, data/affectnet/{train,val}/{0..7}/*.jpg, already cropped) is
# read with layout='folders' (drop CropFaceBox from the pipelines):
#   --cfg-options train_dataloader.dataset.layout=folders ...
_base_ = [
    '../_base_/models/dan_resnet18.py',
    '../_base_/schedules/dan_adam_10e.py',
    '../_base_/default_runtime.py',
]

from fer_mm.datasets.categories import AFFECTNET_CATEGORIES  # noqa: E402

classes = AFFECTNET_CATEGORIES  # ids 0..7
del AFFECTNET_CATEGORIES  # a config key only once, as `classes`
num_classes = 8
data_root = 'data/affectnet'

model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/resnet18_msceleb_fermm.pth',
            prefix='backbone.',
        )
    ),
    head=dict(num_classes=num_classes),
)
data_preprocessor = dict(
    num_classes=num_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)

# The reference's torchvision pipeline: Resize((224, 224)),
# RandomHorizontalFlip(), RandomApply([RandomAffine(20, scale=(0.8, 1),
# translate=(0.2, 0.2))], p=0.7) (the same torchvision transform here, exact),
# ImageNet normalisation (the data preprocessor) and RandomErasing() with
# torchvision's defaults (p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3),
# value=0 on the normalised tensor); here it runs before normalisation and
# fills with the ImageNet mean (approximation, same erased areas).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='CropFaceBox'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomApply',
        prob=0.7,
        transforms=[
            dict(type='NumpyToPIL', to_rgb=True),
            dict(
                type='torchvision/RandomAffine',
                degrees=20,
                translate=(0.2, 0.2),
                scale=(0.8, 1.0),
            ),
            dict(type='PILToNumpy', to_bgr=True),
        ],
    ),
    dict(
        type='RandomErasing',
        erase_prob=0.5,
        min_area_ratio=0.02,
        max_area_ratio=0.33,
        aspect_range=(0.3, 3.3),
        mode='const',
        fill_color=(103.53, 116.28, 123.675),  # ImageNet mean, BGR
    ),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='CropFaceBox'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type='AffectNet',
        data_root=data_root,
        split='train',
        classes=classes,
        pipeline=train_pipeline,
    ),
    # The reference's ImbalancedDatasetSampler: weight 1 / class count, with
    # replacement, len(dataset) draws per epoch.
    sampler=dict(type='ClassBalancedSampler'),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type='AffectNet',
        data_root=data_root,
        split='val',
        classes=classes,
        pipeline=test_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='FERMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator

# Schedule (_base_/schedules/dan_adam_10e.py): Adam 1e-4, torch
# ExponentialLR(gamma=0.6) stepped once per epoch. The reference script
# defaults to 40 epochs; its README and the paper train AffectNet for 10
# (lr 1e-4 * 0.6^9 = 1e-6 at the end).
auto_scale_lr = dict(base_batch_size=256)
# BatchNorm statistics over the global batch of 256, as the reference's
# single-GPU batch (yaoing/DAN trains on one device). torch's SyncBatchNorm
# needs GPUs: a CPU (gloo) run falls back to BatchNorm over 32 per process
# and logs it.
sync_bn = 'torch'

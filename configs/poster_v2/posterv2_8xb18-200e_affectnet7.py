# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# POSTER V2 on AffectNet-7, the reference recipe (main.py with
# --data_type AffectNet-7 --lr 1e-6 --batch-size 144 --epochs 200):
# SAM(Adam, rho 0.05), ExponentialLR 0.98 per epoch, class-balanced sampling
# (torchsampler's ImbalancedDatasetSampler), RandomErasing(p=1,
# scale=(0.05, 0.05)), batch 144 = 8 GPUs x 18 with SyncBN.
#
# Data: AffectNet as distributed, read as in
# configs/dan/dan_resnet18_8xb32-10e_affectnet8.py (fer_mm.datasets.AffectNet:
# the CSVs' face boxes cropped by CropFaceBox, Contempt and ids 8-10 dropped
# and counted in the log); layout='folders' reads the reference's class-folder
# tree instead.
# Differences from the reference: configs/poster_v2/README.md.
_base_ = ['./posterv2_8xb18-200e_rafdb.py']

from fer_mm.datasets.categories import AFFECTNET_CATEGORIES  # noqa: E402

classes = AFFECTNET_CATEGORIES[:7]  # ids 0..6, Contempt (7) left out
del AFFECTNET_CATEGORIES  # a config key only once, as `classes`
data_root = 'data/affectnet'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='CropFaceBox'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomErasing',
        erase_prob=1.0,
        mode='const',
        min_area_ratio=0.05,
        max_area_ratio=0.05,
        aspect_range=(0.3, 3.3),
        fill_color=(103.53, 116.28, 123.675),
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
    dataset=dict(
        _delete_=True,
        type='AffectNet',
        data_root=data_root,
        split='train',
        classes=classes,
        pipeline=train_pipeline,
    ),
    # ImbalancedDatasetSampler draws every sample with probability
    # proportional to 1 / (its class count), with replacement, len(dataset)
    # draws per epoch: fer_mm's ClassBalancedSampler does the same.
    sampler=dict(_delete_=True, type='ClassBalancedSampler'),
)
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='AffectNet',
        data_root=data_root,
        split='val',
        classes=classes,
        pipeline=test_pipeline,
    )
)
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-6))

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# FER2013 (7 classes): 48x48 gray faces decoded from fer2013.csv into memory
# (no image files, so no LoadImageFromFile), stacked to 3 channels and resized
# to 112x112. Splits: train = Usage Training, val = PublicTest,
# test = PrivateTest. Point data_root at the folder holding fer2013.csv.
# The image-folder release (train/ and test/ of emotion-name folders) is read
# into the same in-memory form with layout='folders' (same pipelines): e.g.
#   --cfg-options train_dataloader.dataset.layout=folders
#   val_dataloader.dataset.layout=folders val_dataloader.dataset.split=test
#   val_dataloader.dataset.usage=PublicTest  (and test_dataloader likewise)
dataset_type = 'FER2013'
data_root = 'data/fer2013'
data_preprocessor = dict(
    num_classes=7,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)
train_pipeline = [
    dict(type='Resize', scale=(112, 112)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='Resize', scale=(112, 112)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        pipeline=test_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='FERMetric')
test_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_evaluator = val_evaluator

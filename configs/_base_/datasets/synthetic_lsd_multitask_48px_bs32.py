# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The synthetic ABAW4-LSD layout with its landmark files, at 48x48, with the
# two views of the LSD multi-task model: the emotion view gets flip + colour
# jitter + random erasing, the appearance view colour jitter only (its
# landmarks follow the resize). Generate it with
#   python tools/misc/generate_synthetic.py data/synthetic_lsd --layout lsd \
#       --scale 0.005 --val-fraction 0.5
dataset_type = 'ABAW4LSD'
data_root = 'data/synthetic_lsd'
data_preprocessor = dict(
    num_classes=6,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)
color_jitter = dict(
    type='ColorJitter', brightness=0.3, contrast=0.3, saturation=0.3
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LandmarkResize', scale=48),
    dict(
        type='TwoViews',
        emotion=[
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            color_jitter,
            dict(type='RandomErasing', erase_prob=0.25, max_area_ratio=0.25),
        ],
        appearance=[color_jitter],
    ),
    dict(type='PackInputs', algorithm_keys=('gt_landmarks',)),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(48, 48)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        landmark_file='landmarks_68/training_set_synthetic_images.txt',
        pipeline=train_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
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
test_dataloader = val_dataloader
test_evaluator = val_evaluator

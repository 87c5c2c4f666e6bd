# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# Aff-Wild2, ABAW expression track (8 classes), 112x112 cropped-aligned
# frames resized to 224. Point data_root at the folder holding annotations/
# and cropped_aligned/ (see fer_mm.datasets.AffWild2).
dataset_type = 'AffWild2'
data_root = 'data/affwild2'
data_preprocessor = dict(
    num_classes=8,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='PackInputs', meta_keys=('img_path', 'video', 'frame')),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        challenge='EXPR_Classification_Challenge',
        frame_roots=['cropped_aligned', 'cropped_aligned_new_50_vids'],
        pipeline=train_pipeline,
    ),
    # ARBEx's per-epoch refinement: <= 512 frames per video, 500 per class.
    sampler=dict(
        type='VideoRefinementSampler',
        frames_per_video=512,
        samples_per_class=500,
    ),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        challenge='EXPR_Classification_Challenge',
        frame_roots=['cropped_aligned', 'cropped_aligned_new_50_vids'],
        pipeline=test_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
# ABAW's official metric is the macro F1 over the 8 classes (fer/macro_f1).
val_evaluator = dict(type='FERMetric')
test_dataloader = val_dataloader
test_evaluator = [
    dict(type='FERMetric'),
    dict(type='ABAWExprSubmission', out_dir='work_dirs/abaw_predictions'),
]

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The LSD multi-task recipe (Jeong et al., ECCV 2022 Workshops, ABAW4):
# trained on the ABAW4 LSD synthetic images (6 classes) with 68 landmarks
# per image, validated on real Aff-Wild2 frames mapped onto the 6 classes by
# name (Neutral and Other dropped). One run = one bag member: a random 20 %
# of the training set (BaggingSampler, subset_seed = member); train a bag
# with tools/train_bag.py and soft-vote it with
# tools/analysis_tools/ensemble_test.py.
# The paper gives no optimiser, schedule or batch size: fer_mm uses DAN's
# AffectNet recipe (Adam 1e-4, ExponentialLR 0.6, 10 epochs), 6 GPUs x 32.
# VGGFace2 ResNet-50 weights are not shipped: set init_cfg of both backbones
# (see README).
_base_ = [
    '../_base_/models/lsd_multitask_resnet50.py',
    '../_base_/schedules/dan_adam_10e.py',
    '../_base_/default_runtime.py',
]
from fer_mm.datasets.categories import LSD_CATEGORIES  # noqa: E402

lsd_classes = list(LSD_CATEGORIES)
del LSD_CATEGORIES  # a config key only once, as `lsd_classes`
# Reported ABAW4 LSD training counts (Anger ... Surprise); inverse-frequency
# weights, the numbers of fer_mm.models.class_weights_from_counts(counts).
lsd_train_counts = [24882, 3803, 6378, 134415, 25459, 14090]
model = dict(
    head=dict(
        loss_cls=dict(
            class_weight=[
                sum(lsd_train_counts) / (6 * n) for n in lsd_train_counts
            ]
        )
    ),
    # MixAugment (Psaroudakis & Kollias, 2022) with its paper's best alpha.
    train_cfg=dict(augments=dict(type='MixAugment', alpha=0.1)),
)
data_preprocessor = dict(
    num_classes=6,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)
color_jitter = dict(
    type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LandmarkResize', scale=224),
    dict(
        type='TwoViews',
        emotion=[
            color_jitter,
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='RandomErasing', erase_prob=0.5, max_area_ratio=0.25),
        ],
        appearance=[color_jitter],
    ),
    dict(type='PackInputs', algorithm_keys=('gt_landmarks',)),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='PackInputs', meta_keys=('img_path', 'video', 'frame')),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    dataset=dict(
        type='ABAW4LSD',
        data_root='data/abaw4_lsd',
        split='train',
        # DECA (or any) landmarks, "CLASS/name.jpg x1 y1 ... x68 y68"
        landmark_file='landmarks_68/training_set_synthetic_images.txt',
        pipeline=train_pipeline,
    ),
    sampler=dict(type='BaggingSampler', fraction=0.2, subset_seed=0),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    dataset=dict(
        type='AffWild2',
        data_root='data/affwild2',
        split='val',
        challenge='EXPR_Classification_Challenge',
        frame_roots=['cropped_aligned', 'cropped_aligned_new_50_vids'],
        target_classes=lsd_classes,
        drop_unmapped=True,
        pipeline=test_pipeline,
    ),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
# The LSD metric: mean F1 over the 6 classes (fer/macro_f1).
val_evaluator = dict(type='FERMetric')
test_dataloader = val_dataloader
test_evaluator = [
    dict(type='FERMetric'),
    dict(type='ABAWExprSubmission', out_dir='work_dirs/lsd_abaw_predictions'),
]
auto_scale_lr = dict(base_batch_size=192)
default_hooks = dict(
    checkpoint=dict(save_best='fer/macro_f1', rule='greater', max_keep_ckpts=2)
)

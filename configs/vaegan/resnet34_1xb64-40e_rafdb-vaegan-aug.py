# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The paper's classifier recipe on RAF-DB basic: ResNet-34, 40 epochs,
# class-balanced sampling, augmentation ratio 0.5 = half of the sampled
# training data of EVERY class augmented, each time with a fresh latent draw
# z' ~ N(E_mu(x), s * Sigma_c) of that very sample (online, in the data
# preprocessor: VAEGANLatentAugment), and original data only in the last
# 5 epochs ("the last few epochs": the number is ours).
# Before training, write the class statistics of the VAE-GAN codes:
#   python tools/generative/vaegan_generate.py configs/vaegan/vaegan_resnet18-biggan_1xb32-100kiters_rafdb-64x64.py \
#       work_dirs/vaegan_resnet18-biggan_1xb32-100kiters_rafdb-64x64/iter_100000.pth work_dirs/vaegan_generated/rafdb \
#       --num 0 --stats-out work_dirs/vaegan_generated/rafdb/stats.pth
# The offline route (a generated tree mixed in by GeneratedMixSampler) is
# described in configs/vaegan/README.md.
_base_ = [
    '../_base_/models/resnet34_fer.py',
    '../_base_/datasets/rafdb_bs64.py',
    '../_base_/schedules/fer_bs64_adamw_30e.py',
    '../_base_/default_runtime.py',
]
custom_imports = dict(
    imports=[
        'fer_mm',
        'fer_mm.generative',
        'fer_mm.utils.weights_only_loading',
    ],
    allow_failed_imports=False,
)
vaegan_config = (
    'configs/vaegan/vaegan_resnet18-biggan_1xb32-100kiters_rafdb-64x64.py'
)
vaegan_checkpoint = 'work_dirs/vaegan_resnet18-biggan_1xb32-100kiters_rafdb-64x64/iter_100000.pth'
vaegan_statistics = 'work_dirs/vaegan_generated/rafdb/stats.pth'
model = dict(
    type='FERClassifier',
    data_preprocessor=dict(
        type='FERDataPreprocessor',
        num_classes=7,
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True,
        batch_augments=dict(
            augments=dict(
                type='VAEGANLatentAugment',
                vaegan=vaegan_config,
                checkpoint=vaegan_checkpoint,
                statistics=vaegan_statistics,
                ratio=0.5,
                strength=0.5,
                form='diag',
                scale='covariance',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                rgb=True,
                last_epochs=5,
            )
        ),
    ),
)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(224, 224)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=0.25,
    ),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    sampler=dict(type='ClassBalancedSampler', _delete_=True),
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
        type='CosineAnnealingLR', by_epoch=True, begin=1, end=40, eta_min=1e-5
    ),
]
train_cfg = dict(max_epochs=40, val_interval=5)

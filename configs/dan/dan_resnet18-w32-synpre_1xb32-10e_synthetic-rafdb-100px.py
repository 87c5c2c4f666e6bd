# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The third occlusion / pose study of README.md ("Study: occlusion and pose
# from a pretrained backbone"): the DAN of the second study
# (dan_resnet18-w32_1xb32-20e_synthetic-rafdb-100px.py: half-width ResNet-18,
# 4 attention heads, 100x100, batch 32, AdamW 1e-3, one warm-up epoch then
# cosine) with its backbone initialised from a network pretrained on clean
# synthetic faces (the study script writes that checkpoint; pass another with
# --cfg-options model.backbone.init_cfg.checkpoint=...), fine-tuned for 10
# epochs. Its baseline is linear_resnet18-w32-synpre_1xb32-10e_synthetic-
# rafdb-100px.py: the same backbone initialisation with global pooling and a
# linear head.
_base_ = ['./dan_resnet18-w32_1xb32-20e_synthetic-rafdb-100px.py']
max_epochs = 10
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            checkpoint='work_dirs/study_dan_pretrained/pretrain/epoch_20.pth',
            prefix='backbone.',
        )
    )
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
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=1,
        end=max_epochs,
        eta_min=1e-5,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)

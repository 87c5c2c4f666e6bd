# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The baseline of the third DAN occlusion / pose study (README.md, "Study:
# occlusion and pose from a pretrained backbone"): the half-width ResNet-18 +
# global average pooling + linear head of
# linear_resnet18-w32_1xb32-20e_synthetic-rafdb-100px.py, its backbone
# initialised from the same pretrained checkpoint as the DAN of
# dan_resnet18-w32-synpre_1xb32-10e_synthetic-rafdb-100px.py, fine-tuned with
# the same data, optimiser and 10-epoch schedule.
_base_ = ['./linear_resnet18-w32_1xb32-20e_synthetic-rafdb-100px.py']
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

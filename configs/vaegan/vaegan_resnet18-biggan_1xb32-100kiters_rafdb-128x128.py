# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The VAE-GAN at 128x128 on RAF-DB basic (aligned 100x100 faces upsampled):
# BigGAN's 128x128 generator / discriminator (self-attention at 64x64) at 32
# base channels, the encoder and losses of the 64x64 config.
_base_ = ['./vaegan_resnet18-biggan_1xb32-100kiters_rafdb-64x64.py']

img_size = 128

model = dict(
    generator=dict(output_scale=img_size),
    discriminator=dict(input_scale=img_size),
)
train_pipeline = [
    dict(type='LoadImageFromFile', key='img', color_type='color'),
    dict(
        type='Resize',
        keys='img',
        scale=(img_size, img_size),
        interpolation='bicubic',
    ),
    dict(type='Flip', keys='img', direction='horizontal'),
    dict(type='PackInputs', keys='img'),
]
encode_pipeline = [
    dict(type='LoadImageFromFile', key='img', color_type='color'),
    dict(
        type='Resize',
        keys='img',
        scale=(img_size, img_size),
        interpolation='bicubic',
    ),
    dict(type='PackInputs', keys='img'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# VAE-GAN (ResNet-18 encoder, BigGAN generator / discriminator) on RAF-DB
# basic (train split, aligned faces resized to 64x64), for the class-covariance
# latent augmentation of Li et al. The paper gives no training settings; these
# are ours: BigGAN's Adam (beta1 = 0) with its two time-scale learning rates,
# 100k iterations of 32 images, the KL weight ramped linearly from 0 over the
# whole run.
_base_ = ['../_base_/gen_default_runtime.py']

img_size = 64
latent_dim = 128
base_channels = 32
max_iters = 100000
data_root = 'data/rafdb'
# ImageNet VGG19 weights (torchvision state dict) for the perceptual loss;
# they cannot be downloaded here: point this at a local copy.
vgg_checkpoint = 'data/pretrained/vgg19-dcbb9e9d.pth'

model = dict(
    type='VAEGAN',
    data_preprocessor=dict(
        type='DataPreprocessor',
        mean=127.5,
        std=127.5,
        output_channel_order='RGB',
    ),
    encoder=dict(
        type='VAEEncoder',
        latent_dim=latent_dim,
        backbone=dict(
            type='mmpretrain.ResNet',
            depth=18,
            base_channels=64,
            stem_channels=64,
            out_indices=(3,),
        ),
    ),
    generator=dict(
        type='BigGANGenerator',
        output_scale=img_size,
        noise_size=latent_dim,
        num_classes=0,
        base_channels=base_channels,
        with_shared_embedding=False,
        split_noise=False,
        sn_style='torch',
        auto_sync_bn=False,
        init_cfg=dict(type='ortho'),
    ),
    discriminator=dict(
        type='BigGANDiscriminator',
        input_scale=img_size,
        num_classes=0,
        base_channels=base_channels,
        sn_style='torch',
        init_cfg=dict(type='ortho'),
    ),
    gan_loss=dict(type='GANLoss', gan_type='hinge', loss_weight=1.0),
    # KL(N(mu, sigma^2) || N(0, I)), mean over latent elements, its weight
    # ramped linearly from 0 to loss_weight over the whole run.
    kl_loss=dict(
        type='GaussianKLLoss',
        loss_weight=0.05,
        warmup_iters=max_iters,
        reduction='mean',
    ),
    pixel_loss=dict(type='L1Loss', loss_weight=1.0),
    # lambda_p = loss_weight; VGG19 relu1_2 .. relu4_4.
    perceptual_loss=dict(
        type='LocalVGGPerceptualLoss',
        vgg_type='vgg19',
        layer_weights={'3': 1.0, '8': 1.0, '17': 1.0, '26': 1.0},
        vgg_checkpoint=vgg_checkpoint,
        loss_weight=0.1,
    ),
    generator_steps=1,
    discriminator_steps=1,
)

# Data: the RAF-DB loader with mmagic's transforms (images only).
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
# Deterministic pipeline used by tools/generative/vaegan_generate.py to
# encode the training set.
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
train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='mmpretrain.RAFDB',
        data_root=data_root,
        split='train',
        pipeline=train_pipeline,
    ),
)
# The augmentation is judged by the classifier trained on its output
# (configs/vaegan/resnet*_vaegan-aug.py): the runtime base runs no validation
# loop.

# Optimizers: one wrapper per network (mmagic's constructor maps the keys to
# model.encoder / model.generator / model.discriminator). BigGAN's two
# time-scale Adam: E and G at 1e-4, D at 4e-4, betas (0, 0.999).
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    encoder=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.999))),
    generator=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.999))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=4e-4, betas=(0.0, 0.999))
    ),
)
train_cfg = dict(by_epoch=False, max_iters=max_iters)

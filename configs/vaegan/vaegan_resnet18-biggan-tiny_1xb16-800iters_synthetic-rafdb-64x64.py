# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# CPU demo: the VAE-GAN at 64x64 on the built-in synthetic set (RAF-DB layout,
# tools/misc/generate_synthetic.py) with narrow networks (encoder ResNet-18 at
# 16 base channels, BigGAN G / D at 8, no self-attention in G: at 64x64 it
# costs most of a CPU step) for a few minutes of CPU.
# No perceptual loss here: without ImageNet VGG weights (none offline) its
# features are random and would dominate the step time; set
# model.perceptual_loss as in vaegan_resnet18-biggan_1xb32-100kiters_rafdb-64x64.py with a local
# vgg_checkpoint to use it.
_base_ = ['./vaegan_resnet18-biggan_1xb32-100kiters_rafdb-64x64.py']

max_iters = 800
data_root = 'data/synthetic_rafdb'
g_channels = 8

model = dict(
    encoder=dict(backbone=dict(base_channels=16, stem_channels=16)),
    generator=dict(
        base_channels=g_channels,
        arch_cfg=dict(
            in_channels=[g_channels * m for m in (16, 16, 8, 4)],
            out_channels=[g_channels * m for m in (16, 8, 4, 2)],
            upsample=[True] * 4,
            resolution=[8, 16, 32, 64],
            attention=[False] * 4,
        ),
    ),
    discriminator=dict(base_channels=g_channels),
    kl_loss=dict(warmup_iters=max_iters),
    perceptual_loss=None,
)
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=False,
    dataset=dict(data_root=data_root),
)
# Larger steps for the short run.
optim_wrapper = dict(
    encoder=dict(optimizer=dict(lr=5e-4)),
    generator=dict(optimizer=dict(lr=5e-4)),
    discriminator=dict(optimizer=dict(lr=5e-4)),
)
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=max_iters)
)

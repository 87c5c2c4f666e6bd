# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# Baseline of the VAE-GAN augmentation study on the built-in synthetic set
# (RAF-DB layout, 64x64): ResNet-18 from scratch with the class-balanced
# sampler ("Balanced" in the paper's table), 8 epochs, no generated data.
_base_ = [
    '../_base_/models/resnet18_fer.py',
    '../_base_/datasets/synthetic_rafdb_bs64.py',
    '../_base_/schedules/fer_bs64_adamw_8e.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(
    sampler=dict(type='ClassBalancedSampler', _delete_=True)
)
default_hooks = dict(checkpoint=dict(save_best=None, max_keep_ckpts=1))

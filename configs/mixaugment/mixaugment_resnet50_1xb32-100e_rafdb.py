# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# MixAugment, alpha 0.1: mixed AND real images in one loss (paper eq. 3).
# mode='independent' pairs two independently drawn half-batches instead.
_base_ = ['./vanilla_resnet50_1xb32-100e_rafdb.py']
model = dict(
    train_cfg=dict(augments=dict(type='MixAugment', alpha=0.1, mode='permute'))
)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# DAN from scratch on the built-in synthetic set at the 8-epoch budget of
# the MixAugment study: compare with
# configs/mixaugment/vanilla_resnet18_1xb64-8e_synthetic-rafdb.py (the same
# ResNet-18, data, optimiser and schedule with a linear head).
_base_ = ['./dan_resnet18_1xb64-30e_synthetic-rafdb.py']
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=8, eta_min=1e-5)
]
train_cfg = dict(max_epochs=8, val_interval=8)
default_hooks = dict(checkpoint=dict(save_best=None, max_keep_ckpts=1))

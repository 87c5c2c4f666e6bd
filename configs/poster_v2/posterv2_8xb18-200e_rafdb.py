# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# POSTER V2 baseline on RAF-DB. Reference recipe: SAM(Adam, rho 0.05),
# ExponentialLR 0.98 per epoch, batch 144, 200 epochs, lr 3.5e-5. SAM is
# not part of mmengine; this config uses plain Adam (documented deviation).
_base_ = [
    '../_base_/models/posterv2_7cls.py',
    '../_base_/datasets/rafdb_arbex_bs32.py',
    '../_base_/default_runtime.py',
]
train_dataloader = dict(
    batch_size=18,
    sampler=dict(type='DefaultSampler', shuffle=True, _delete_=True),
)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=3.5e-5))
param_scheduler = [dict(type='ExponentialLR', gamma=0.98, by_epoch=True)]
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=144)

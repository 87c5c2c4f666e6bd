# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# One member of the bag of the second stage of the LSD study (README.md,
# "Study: the bag of five at five times the budget"): the multi-task model of
# lsd-mtl_resnet18-w32_1xb32-10e_synthetic-lsd.py, for 50 epochs, to be
# trained by tools/train_bag.py on a 20 % subsample (--fraction 0.2), so
# that a member takes about the steps of one model on 100 % for 10 epochs
# (at 4,180 images: 27 x 50 = 1,350 against 131 x 10 = 1,310). The warm-up
# lasts 5 epochs (135 steps, about the single model's one epoch of 131).
_base_ = ['./lsd-mtl_resnet18-w32_1xb32-10e_synthetic-lsd.py']
max_epochs = 50
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True,
    ),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=5,
        end=max_epochs,
        eta_min=1e-5,
        convert_to_iter_based=True,
    ),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1, save_best=None),
)

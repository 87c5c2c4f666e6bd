# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The CPU studies' recipe at batch 64: AdamW (lr 1e-3, weight decay 0.05), one
# linear warm-up epoch from 0.1x, then cosine to 1e-5 at epoch 30.
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
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
        type='CosineAnnealingLR', by_epoch=True, begin=1, end=30, eta_min=1e-5
    ),
]
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)

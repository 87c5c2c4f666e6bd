# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The CPU demos of the larger models (POSTER V2, ARBEx, LSD) at batch 32:
# AdamW (weight decay 0.05), cosine to 1e-5 over 5 epochs, one validation at
# the end.
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=3e-4, weight_decay=0.05))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=5, eta_min=1e-5)
]
train_cfg = dict(by_epoch=True, max_epochs=5, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=32)

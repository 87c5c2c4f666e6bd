# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The CPU studies' short budget: fer_bs64_adamw_30e.py's AdamW over 8 epochs,
# cosine from the first step (no warm-up epoch), one validation at the end.
_base_ = ['./fer_bs64_adamw_30e.py']
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=8, eta_min=1e-5)
]
train_cfg = dict(max_epochs=8, val_interval=8)

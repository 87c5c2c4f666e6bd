# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# POSTER V2 baseline on the built-in synthetic set, sized for a CPU run.
# No pretrained IR-50 / MobileFaceNet can be loaded here, so both streams
# start from random weights and the streams see a 64x64 face
# (inner_size=64, windows 16/8/4) instead of 112x112: the architecture is
# the paper's, only the resolution is reduced. Same budget as
# configs/arbex/arbex_posterv2_1xb32-5e_synthetic-rafdb.py.
_base_ = [
    '../_base_/models/posterv2_7cls.py',
    '../_base_/datasets/synthetic_rafdb_bs64.py',
    '../_base_/schedules/fer_bs32_adamw_5e.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(
        img_size=64, inner_size=64, window_sizes=(16, 8, 4), freeze_ir50=False
    )
)
train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)
test_dataloader = val_dataloader
default_hooks = dict(checkpoint=dict(save_best=None, max_keep_ckpts=1))

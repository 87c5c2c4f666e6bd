# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# ARBEx on RAF-DB: POSTER V2 features + reliability balancing, 8 GPUs x 32.
#   tools/dist_train.sh configs/arbex/arbex_rafdb.py 8
# Paper recipe: Adam lr 3e-4, exponential decay 0.995, 256 resize + 224 crop,
# flip and heavy augmentation, 10 anchors per class, loss weights x1.
_base_ = [
    '../_base_/models/arbex_posterv2.py',
    '../_base_/datasets/rafdb_arbex_bs32.py',
    '../_base_/default_runtime.py',
]
# the paper's Adam has no weight decay (anchors included)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=3e-4))
param_scheduler = [dict(type='ExponentialLR', gamma=0.995, by_epoch=True)]
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)

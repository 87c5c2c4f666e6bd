# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# Mixup (mmpretrain's batch augment), alpha 0.1: train on mixed images only.
_base_ = ['./vanilla_resnet50_1xb32-100e_rafdb.py']
model = dict(train_cfg=dict(augments=dict(type='Mixup', alpha=0.1)))

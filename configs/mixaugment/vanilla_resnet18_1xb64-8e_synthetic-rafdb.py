# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# Small-budget study on the built-in synthetic set (RAF-DB layout, 64x64):
# vanilla / Mixup / MixAugment at the same number of epochs.
_base_ = [
    '../_base_/models/resnet18_fer.py',
    '../_base_/datasets/synthetic_rafdb_bs64.py',
    '../_base_/schedules/fer_bs64_adamw_8e.py',
    '../_base_/default_runtime.py',
]
# CrossEntropyLoss takes hard labels and the soft labels of mixed samples.
model = dict(type='FERClassifier')
default_hooks = dict(checkpoint=dict(save_best=None, max_keep_ckpts=1))

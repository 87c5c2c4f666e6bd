# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
_base_ = ['./vanilla_resnet18_1xb64-8e_synthetic-rafdb.py']
model = dict(train_cfg=dict(augments=dict(type='Mixup', alpha=0.1)))

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# MixAugment with alpha 1.0 (the mixing weight uniform on [0, 1]) instead of the
# paper's 0.1; everything else as mixaugment_resnet18_1xb64-8e_synthetic-rafdb.py.
# The config of the mixing-strength follow-up of the over-fitting study
# (README.md, "Follow-up: mixing strength").
_base_ = ['./mixaugment_resnet18_1xb64-8e_synthetic-rafdb.py']
model = dict(train_cfg=dict(augments=dict(alpha=1.0)))

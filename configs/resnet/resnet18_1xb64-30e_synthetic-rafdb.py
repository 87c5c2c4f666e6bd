# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The demo: ResNet-18 from scratch on the built-in synthetic set (RAF-DB layout,
# 64x64 input), sized to train in a few minutes on a 2-core CPU with --amp.
_base_ = [
    '../_base_/models/resnet18_fer.py',
    '../_base_/datasets/synthetic_rafdb_bs64.py',
    '../_base_/schedules/fer_bs64_adamw_30e.py',
    '../_base_/default_runtime.py',
]

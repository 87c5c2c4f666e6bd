# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# mmpretrain's ResNet-34 classifier for the 7 RAF-DB basic classes, top-1
# accuracy only.
_base_ = 'mmpretrain::_base_/models/resnet34.py'
model = dict(head=dict(num_classes=7, topk=(1,)))

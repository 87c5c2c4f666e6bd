# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# RAF-DB compound subset (11 classes).
_base_ = ['./rafdb_bs64.py']
data_preprocessor = dict(num_classes=11)
train_dataloader = dict(dataset=dict(subset='compound'))
val_dataloader = dict(dataset=dict(subset='compound'))
test_dataloader = val_dataloader

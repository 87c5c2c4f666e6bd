# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# FERPlus (8 classes): the FER2013 faces with the crowd-sourced votes of
# fer2013new.csv (put it next to fer2013.csv in data_root). Samples carry
# gt_score (the normalised votes) and gt_label (their argmax); train with a
# soft-target loss, e.g. dict(type='CrossEntropyLoss', use_soft=True), or set
# label_mode='majority' for hard labels only.
_base_ = ['./fer2013_bs64.py']
dataset_type = 'FERPlus'
data_root = 'data/fer2013'
data_preprocessor = dict(num_classes=8)
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, label_mode='soft')
)
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, label_mode='soft')
)
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, label_mode='soft')
)

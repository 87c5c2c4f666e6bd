# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# RAF-DB basic with class-balanced sampling (each class equally likely per
# draw; the epoch keeps the dataset's length).
_base_ = ['./rafdb_bs64.py']
train_dataloader = dict(
    sampler=dict(type='ClassBalancedSampler', _delete_=True)
)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# DAN (arXiv 2109.07270): ResNet-18 feature clustering network, 4 cross
# attention heads (DANAttentionNeck), attention fusion + losses (DANHead),
# for the 7 RAF-DB basic classes.
# Total loss = CE + 1.0 * affinity + 1.0 * partition, as in the reference.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet',
        depth=18,
        num_stages=4,
        out_indices=(3,),
        style='pytorch',
    ),
    neck=dict(type='DANAttentionNeck', in_channels=512, num_heads=4),
    head=dict(
        type='DANHead',
        num_classes=7,
        in_channels=512,
        loss_cls=dict(type='CrossEntropyLoss', loss_weight=1.0),
        loss_affinity=dict(type='DANAffinityLoss', loss_weight=1.0),
        loss_partition=dict(type='DANPartitionLoss', loss_weight=1.0),
        topk=(1,),
    ),
)

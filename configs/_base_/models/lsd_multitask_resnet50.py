# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# LSD multi-task model (Jeong et al., ECCV 2022 Workshops, ABAW4): emotion
# branch = ResNet-50 + DAN attention (4 heads, sized to its 2048 channels),
# appearance branch = ResNet-50 regressing 68 iBUG landmarks, shared fully
# connected layers, two outputs (6 expression logits, 136 landmark values).
# Loss = weighted CE + DAN affinity + partition + landmark MSE.
model = dict(
    type='LSDMultiTaskClassifier',
    backbone=dict(type='ResNet', depth=50, out_indices=(3,), style='pytorch'),
    neck=dict(type='DANAttentionNeck', num_heads=4),  # in_channels: 2048
    appearance_backbone=dict(
        type='ResNet', depth=50, out_indices=(3,), style='pytorch'
    ),
    appearance_neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LSDMultiTaskHead',
        num_classes=6,
        shared_channels=(512,),
        loss_cls=dict(type='CrossEntropyLoss', loss_weight=1.0),
        loss_affinity=dict(type='DANAffinityLoss', loss_weight=1.0),
        loss_partition=dict(type='DANPartitionLoss', loss_weight=1.0),
        loss_landmark=dict(type='LSDLandmarkMSELoss', loss_weight=1.0),
        topk=(1,),
    ),
)

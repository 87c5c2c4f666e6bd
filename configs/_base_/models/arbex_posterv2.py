# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# ARBEx: POSTER V2 feature extractor (IR-50 and the landmark stream frozen
# as in ARBEx's get_poster: no gradients, BatchNorm in train mode) and the
# reliability-balancing head (learnable anchors, attentive correction,
# anchor and center losses).
_base_ = ['./posterv2_7cls.py']
model = dict(
    backbone=dict(freeze_ir50=True),
    head=dict(
        _delete_=True,
        type='ARBExHead',
        num_classes=7,
        in_channels=768,
        hidden_channels=(384, 192, 96),
        num_anchors=10,
        # attention values per class: 1 as the reference's train.py
        # (SelfAttn(n_classes, size_emb) has n_anchors=1); 10 = the anchors
        num_attn_anchors=1,
        delta=1.0,
        batch_attention=False,
        test_mode='corrected',
        loss_cls=dict(type='ARBExClassLoss', loss_weight=1.0),
        loss_anchor=dict(type='ARBExAnchorLoss', loss_weight=1.0),
        loss_center=dict(type='ARBExCenterLoss', loss_weight=1.0),
        # w_c = (N / C) / n_c from the RAF-DB basic training counts.
        class_weights=[1.3589, 6.2384, 2.4449, 0.3674, 0.8845, 2.4865, 0.6945],
    ),
)

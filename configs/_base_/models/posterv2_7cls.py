# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# POSTER V2 (POSTER++): IR-50 image stream + frozen MobileFaceNet landmark
# stream, window cross-attention at three scales, 2-block ViT, SE gate; a
# linear classifier on the 768-d embedding. Pretrained parts come from local
# files (nothing is downloaded), converted by
# tools/model_converters/poster_to_fermm.py: set ir50_init_cfg /
# landmark_init_cfg to dict(type='Pretrained', checkpoint=...).
model = dict(
    type='FERClassifier',
    backbone=dict(
        type='PosterV2',
        img_size=224,
        out_type='embedding',
        freeze_ir50=False,
        freeze_landmark=True,
        ir50_init_cfg=None,  # e.g. Pretrained 'checkpoints/ir50_fermm.pth'
        landmark_init_cfg=None,  # e.g. Pretrained of the converted landmark file
    ),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=7,
        in_channels=768,
        loss=dict(type='CrossEntropyLoss'),
        topk=(1,),
    ),
)

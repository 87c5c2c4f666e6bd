# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# Classifier trained on the synthetic set plus 100 ECycleGAN Neutral -> Disgust
# translations (tools/generative/ecyclegan_translate.py writes them as a
# RAF-DB tree). Everything else is the vanilla same-budget config, which is the
# baseline "without generated data".
_base_ = ['../mixaugment/vanilla_resnet18_1xb64-8e_synthetic-rafdb.py']

data_root = 'data/synthetic_rafdb'
translated_root = 'data/ecyclegan/synthetic-rafdb_neutral2disgust_100'
train_pipeline = _base_.train_pipeline
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                type='RAFDB',
                data_root=data_root,
                split='train',
                pipeline=train_pipeline,
            ),
            dict(
                type='RAFDB',
                data_root=translated_root,
                split='train',
                pipeline=train_pipeline,
            ),
        ],
    )
)

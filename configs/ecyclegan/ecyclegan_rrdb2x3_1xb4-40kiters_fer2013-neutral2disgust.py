# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# ECycleGAN Neutral -> Disgust on FER2013 (the source's dataset): 48x48 faces
# decoded from fer2013.csv in memory (no image files, no loading transform).
_base_ = ['./ecyclegan_rrdb2x3_1xb4-40kiters_rafdb-neutral2disgust.py']

domain_a = 'neutral'
domain_b = 'disgust'
fer_dataset = dict(type='mmpretrain.FER2013', data_root='data/fer2013')
train_pipeline = [
    dict(type='Flip', keys=[f'img_{domain_a}'], direction='horizontal'),
    dict(type='Flip', keys=[f'img_{domain_b}'], direction='horizontal'),
    dict(
        type='PackInputs',
        keys=[f'img_{domain_a}', f'img_{domain_b}'],
        data_keys=[f'img_{domain_a}', f'img_{domain_b}'],
    ),
]
test_pipeline = [
    dict(
        type='PackInputs',
        keys=[f'img_{domain_a}', f'img_{domain_b}'],
        data_keys=[f'img_{domain_a}', f'img_{domain_b}'],
    ),
]
train_dataloader = dict(
    dataset=dict(
        dataset=dict(_delete_=True, split='train', **fer_dataset),
        pipeline=train_pipeline,
    )
)

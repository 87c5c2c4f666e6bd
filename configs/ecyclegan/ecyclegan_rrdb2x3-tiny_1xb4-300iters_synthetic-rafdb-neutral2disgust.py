# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# CPU demo: ECycleGAN Neutral -> Disgust on the built-in synthetic set
# (RAF-DB layout, tools/misc/generate_synthetic.py) at 64x64 with a narrow
# RRDB generator (2x3 blocks, 16 channels) and discriminator, for a few
# minutes of CPU. The perceptual loss runs on random VGG19 weights up to
# relu2_2 (no ImageNet weights offline); point vgg_checkpoint at a local copy
# to use real ones.
_base_ = ['./ecyclegan_rrdb2x3_1xb4-40kiters_rafdb-neutral2disgust.py']

img_size = 64
max_iters = 300
domain_a = 'neutral'
domain_b = 'disgust'
data_root = 'data/synthetic_rafdb'

model = dict(
    generator=dict(mid_channels=16, growth_channels=8),
    discriminator=dict(base_channels=16),
    perceptual_loss=dict(vgg_checkpoint=None, layer_weights={'8': 1.0}),
)
_resize = dict(
    type='TransformBroadcaster',
    mapping={'img': [f'img_{domain_a}', f'img_{domain_b}']},
    auto_remap=True,
    share_random_params=True,
    transforms=[
        dict(
            type='Resize', scale=(img_size, img_size), interpolation='bicubic'
        )
    ],
)
train_pipeline = [
    dict(type='LoadImageFromFile', key=f'img_{domain_a}', color_type='color'),
    dict(type='LoadImageFromFile', key=f'img_{domain_b}', color_type='color'),
    _resize,
    dict(type='Flip', keys=[f'img_{domain_a}'], direction='horizontal'),
    dict(type='Flip', keys=[f'img_{domain_b}'], direction='horizontal'),
    dict(
        type='PackInputs',
        keys=[f'img_{domain_a}', f'img_{domain_b}'],
        data_keys=[f'img_{domain_a}', f'img_{domain_b}'],
    ),
]
test_pipeline = [
    dict(type='LoadImageFromFile', key=f'img_{domain_a}', color_type='color'),
    dict(type='LoadImageFromFile', key=f'img_{domain_b}', color_type='color'),
    _resize,
    dict(
        type='PackInputs',
        keys=[f'img_{domain_a}', f'img_{domain_b}'],
        data_keys=[f'img_{domain_a}', f'img_{domain_b}'],
    ),
]
train_dataloader = dict(
    num_workers=1,
    persistent_workers=False,
    dataset=dict(
        dataset=dict(data_root=data_root, split='train'),
        pipeline=train_pipeline,
    ),
)
param_scheduler = dict(begin=max_iters // 2, end=max_iters)
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=max_iters)
)

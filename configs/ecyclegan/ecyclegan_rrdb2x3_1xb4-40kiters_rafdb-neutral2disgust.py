# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# ECycleGAN Neutral -> Disgust on RAF-DB basic (train split, aligned 100x100):
# RRDB generator with 2 RRDBs x 3 dense blocks and residual scaling 0.5,
# LSGAN, lambda_cyc = 10, lambda_idt = 0.5 (relative), perceptual consistency.
# The schedule (40k iterations of 4 pairs, linear decay over the second half)
# is ours: the source does not report one.
_base_ = ['../_base_/gen_default_runtime.py']

domain_a = 'neutral'  # source expression (domain A)
domain_b = 'disgust'  # target expression (domain B)
img_size = 100
max_iters = 40000

# Loss weights as in the CycleGAN paper, where the identity weight is
# *relative* to the cycle weight; fer_mm's weights are absolute
# (loss_weight = lambda_idt * lambda_cyc = 5 here).
lambda_cyc = 10.0
lambda_idt = 0.5
# ImageNet VGG19 weights (torchvision state dict) for the perceptual loss;
# they cannot be downloaded here: point this at a local copy.
vgg_checkpoint = 'data/pretrained/vgg19-dcbb9e9d.pth'

model = dict(
    type='ECycleGAN',
    data_preprocessor=dict(
        type='DataPreprocessor',
        mean=127.5,
        std=127.5,
        data_keys=[f'img_{domain_a}', f'img_{domain_b}'],
    ),
    generator=dict(
        type='RRDBGenerator',
        in_channels=3,
        out_channels=3,
        mid_channels=64,
        growth_channels=32,
        num_blocks=2,
        num_dense_blocks=3,
        res_scale=0.5,
    ),
    discriminator=dict(
        type='PatchDiscriminator',
        in_channels=3,
        base_channels=64,
        num_conv=3,
        norm_cfg=dict(type='IN'),
        init_cfg=dict(type='normal', gain=0.02),
    ),
    gan_loss=dict(
        type='GANLoss',
        gan_type='lsgan',
        real_label_val=1.0,
        fake_label_val=0.0,
        loss_weight=1.0,
    ),
    cycle_loss=dict(type='L1Loss', loss_weight=lambda_cyc),
    id_loss=dict(type='L1Loss', loss_weight=lambda_idt * lambda_cyc),
    # VGG19 features compared on the cycle reconstructions (conv5_4 before
    # its ReLU, ESRGAN's layer; the source does not name one).
    perceptual_loss=dict(
        type='LocalVGGPerceptualLoss',
        vgg_type='vgg19',
        layer_weights={'34': 1.0},
        vgg_checkpoint=vgg_checkpoint,
        loss_weight=1.0,
        # the data preprocessor keeps LoadImageFromFile's BGR order (no
        # output_channel_order): flip to RGB before the ImageNet-RGB VGG
        input_channel_order='BGR',
    ),
    # Anti-overfitting remedies, off in the best reported model; see
    # ecyclegan-flip-noise-g10d1_rrdb2x3_1xb4-40kiters_rafdb-neutral2disgust.py
    generator_steps=1,
    discriminator_steps=1,
    label_flip_prob=0.0,
    instance_noise_std=0.0,
    buffer_size=50,
    default_domain=domain_b,
    reachable_domains=[domain_a, domain_b],
    related_domains=[domain_a, domain_b],
)

# Data: two classes of the RAF-DB loader, no re-exported folders.
dataset_type = 'UnpairedExpressionDataset'
fer_dataset = dict(type='mmpretrain.RAFDB', data_root='data/rafdb')
train_pipeline = [
    dict(type='LoadImageFromFile', key=f'img_{domain_a}', color_type='color'),
    dict(type='LoadImageFromFile', key=f'img_{domain_b}', color_type='color'),
    dict(
        type='TransformBroadcaster',
        mapping={'img': [f'img_{domain_a}', f'img_{domain_b}']},
        auto_remap=True,
        share_random_params=True,
        transforms=[
            dict(
                type='Resize',
                scale=(img_size, img_size),
                interpolation='bicubic',
            ),
        ],
    ),
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
    dict(
        type='TransformBroadcaster',
        mapping={'img': [f'img_{domain_a}', f'img_{domain_b}']},
        auto_remap=True,
        share_random_params=True,
        transforms=[
            dict(
                type='Resize',
                scale=(img_size, img_size),
                interpolation='bicubic',
            ),
        ],
    ),
    dict(
        type='PackInputs',
        keys=[f'img_{domain_a}', f'img_{domain_b}'],
        data_keys=[f'img_{domain_a}', f'img_{domain_b}'],
    ),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        dataset=dict(fer_dataset, split='train'),
        source_class='Neutral',
        target_class='Disgust',
        domain_a=domain_a,
        domain_b=domain_b,
        pipeline=train_pipeline,
    ),
)
# Translation models are judged by the classifier trained on their output
# (tools/generative/ecyclegan_translate.py): the runtime base runs no
# validation loop.

# Schedule: Adam 2e-4 (0.5, 0.999) for both, linear decay to 0 over the
# second half, as in CycleGAN.
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generators=dict(
        optimizer=dict(type='Adam', lr=0.0002, betas=(0.5, 0.999))
    ),
    discriminators=dict(
        optimizer=dict(type='Adam', lr=0.0002, betas=(0.5, 0.999))
    ),
)
param_scheduler = dict(
    type='LinearLR',
    start_factor=1.0,
    end_factor=0.0,
    by_epoch=False,
    begin=max_iters // 2,
    end=max_iters,
)
train_cfg = dict(by_epoch=False, max_iters=max_iters)
default_hooks = dict(
    checkpoint=dict(interval=5000),
    param_scheduler=dict(type='ParamSchedulerHook'),
)

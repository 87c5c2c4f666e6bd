# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# The LSD multi-task model at the scale of a shared 2-core CPU, on the
# synthetic ABAW4-LSD layout (--scale 0.005 --val-fraction 0.5): ResNet-18
# at an eighth of the width (base 8 channels, 64 out) in both branches,
# from scratch, 48x48 input, batch 32, 5 epochs (165 steps), CE weighted by the inverse frequency
# of the synthetic training counts. MixAugment is off at this budget (it
# doubles the step); the paper recipe has it.
_base_ = [
    '../_base_/models/lsd_multitask_resnet50.py',
    '../_base_/datasets/synthetic_lsd_multitask_48px_bs32.py',
    '../_base_/schedules/fer_bs32_adamw_5e.py',
    '../_base_/default_runtime.py',
]
# Training images per class of the synthetic layout at --scale 0.005
# (Anger ... Surprise); w_c = N / (6 n_c), the same numbers as
# fer_mm.models.class_weights_from_counts(synthetic_lsd_counts).
synthetic_lsd_counts = [124, 19, 32, 672, 127, 70]
narrow_resnet18 = dict(
    type='ResNet',
    depth=18,
    base_channels=8,
    stem_channels=8,
    out_indices=(3,),
    style='pytorch',
)
model = dict(
    backbone=narrow_resnet18,
    appearance_backbone=narrow_resnet18,
    probe_size=48,
    head=dict(
        shared_channels=(64,),
        loss_cls=dict(
            class_weight=[
                sum(synthetic_lsd_counts) / (6 * n)
                for n in synthetic_lsd_counts
            ]
        ),
    ),
)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(save_best=None, max_keep_ckpts=1),
)

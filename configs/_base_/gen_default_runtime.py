# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# Runtime of fer_mm's generative configs (VAE-GAN, ECycleGAN): mmagic's
# generation runtime, with fer_mm's imports and weights-only loading, a fixed
# seed, RNG states in checkpoints, CPU-friendly process settings and no
# validation loop (a generator is judged by the classifier trained on its
# output).
_base_ = 'mmagic::_base_/gen_default_runtime.py'

custom_imports = dict(
    imports=[
        'fer_mm',
        'fer_mm.generative',
        'fer_mm.utils.weights_only_loading',
    ],
    allow_failed_imports=False,
)
default_hooks = dict(
    # two checkpoints kept, no best-checkpoint keys (nothing is validated)
    checkpoint=dict(
        _delete_=True,
        # crash-safe writes (fer_mm's hook lives in mmpretrain's registry)
        type='AtomicCheckpointHook',
        _scope_='mmpretrain',
        interval=10000,
        by_epoch=False,
        max_keep_ckpts=2,
        save_optimizer=True,
    ),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# fer_mm's RNG-state hook lives in mmpretrain's registry.
custom_hooks = [dict(type='RNGStateHook', _scope_='mmpretrain')]
env_cfg = dict(cudnn_benchmark=False)
randomness = dict(seed=0, diff_rank_seed=True)
resume = False

train_cfg = dict(_delete_=True, by_epoch=False)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None

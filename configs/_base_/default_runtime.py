# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# Runtime shared by every fer_mm config.
default_scope = 'mmpretrain'
# Importing fer_mm.utils.weights_only_loading makes every local checkpoint the
# runner loads (load_from, resume; also mmpretrain.apis.init_model) go through
# fer_mm's weights-only unpickler, whichever program reads this config.
custom_imports = dict(
    imports=['fer_mm', 'fer_mm.utils.weights_only_loading'],
    allow_failed_imports=False,
)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=2, save_best='auto'
    ),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
)
# Random-generator states travel with checkpoints, so a resumed run draws the
# same random numbers as an uninterrupted one.
custom_hooks = [dict(type='RNGStateHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)

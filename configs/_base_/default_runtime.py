# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
# Runtime shared by every fer_mm classification config: mmpretrain's, with
# fer_mm's imports, a shorter log interval, two checkpoints kept (the best
# by the first metric, written crash-safe), RNG states in checkpoints and a fixed seed.
_base_ = 'mmpretrain::_base_/default_runtime.py'

# Importing fer_mm.utils.weights_only_loading makes every local checkpoint the
# runner loads (load_from, resume; also mmpretrain.apis.init_model) go through
# fer_mm's weights-only unpickler, whichever program reads this config.
custom_imports = dict(
    imports=['fer_mm', 'fer_mm.utils.weights_only_loading'],
    allow_failed_imports=False,
)

default_hooks = dict(
    logger=dict(interval=20),
    # mmengine's CheckpointHook, written crash-safe (temporary file, fsync,
    # rename; old checkpoints removed only after the new one is complete).
    checkpoint=dict(
        type='AtomicCheckpointHook', max_keep_ckpts=2, save_best='auto'
    ),
)
# Random-generator states travel with checkpoints, so a resumed run draws the
# same random numbers as an uninterrupted one. The datasets' fingerprints
# (counts, image size, digest, official or not) go to
# <work_dir>/dataset_fingerprint.json next to the dumped config.
custom_hooks = [dict(type='RNGStateHook'), dict(type='DatasetFingerprintHook')]

randomness = dict(seed=0)

# mmpretrain's visualizer, written out: inherited, it carries mmengine's
# `_scope_` key, which breaks tools that pass the dict to the class
# (UniversalVisualizer(**cfg.visualizer) in mmpretrain's browse_dataset.py).
# TensorBoard / W&B / MLflow (the `loggers` extra): in a config,
#   visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),
#                                   dict(type='TensorboardVisBackend')])
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    _delete_=True, type='UniversalVisualizer', vis_backends=vis_backends
)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""A tiny classifier config on the synthetic set, for tool tests."""

import os.path as osp
import sys

TEMPLATE = """
_base_ = ['{repo}/configs/_base_/default_runtime.py']
custom_imports = dict(
    imports=['fer_mm', 'fer_mm.utils.weights_only_loading',
             'tests.helpers.record_hook'],
    allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        num_classes=7, mean=[127.5] * 3, std=[64.0] * 3, to_rgb=True),
    backbone=dict(type='ResNet', depth=18, stem_channels=8,
                  base_channels=8, out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=7, in_channels=64,
              loss=dict(type='CrossEntropyLoss'), topk=(1, )))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16, num_workers=0,
    dataset=dict(type='RAFDB', data_root='{data}', split='train',
                 pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=32, num_workers=0,
    dataset=dict(type='RAFDB', data_root='{data}', split='test',
                 pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='FERMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[1],
                        gamma=0.5)]
train_cfg = dict(by_epoch=True, max_epochs={epochs}, val_interval=100)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=5),
                     checkpoint=dict(save_best=None, max_keep_ckpts=-1))
custom_hooks = [dict(type='RNGStateHook'), dict(type='DatasetFingerprintHook'),
                dict(type='RecordSamplesHook')]{extra_hooks}
randomness = dict(seed=123)
"""


def write_tiny_config(path, repo, data, epochs=2, crash_after=None):
    extra = (
        ''
        if crash_after is None
        else f"\ncustom_hooks.append(dict(type='CrashAfterEpochHook', "
        f'epoch={crash_after}))'
    )
    with open(path, 'w') as f:
        f.write(
            TEMPLATE.format(
                repo=repo, data=data, epochs=epochs, extra_hooks=extra
            )
        )
    return path


def tool_env(repo):
    import os

    env = dict(os.environ)
    env['PYTHONPATH'] = repo + (
        osp.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else ''
    )
    env['OMP_NUM_THREADS'] = '1'
    env['PYTHON'] = sys.executable  # the interpreter dist_train.sh uses
    return env

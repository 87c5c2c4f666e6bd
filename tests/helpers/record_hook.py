# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""A test-only hook that records which samples each rank trained on."""

import os.path as osp

from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class RecordSamplesHook(Hook):
    def before_train_iter(self, runner, batch_idx, data_batch=None):
        path = osp.join(runner.work_dir, f'seen_rank{get_rank()}.txt')
        with open(path, 'a') as f:
            for sample in data_batch['data_samples']:
                f.write(f'{runner.epoch} {sample.img_path}\n')


@HOOKS.register_module()
class CrashAfterEpochHook(Hook):
    """Kill the process once epoch ``epoch`` is checkpointed (a crash)."""

    priority = 'LOWEST'

    def __init__(self, epoch=1):
        self.epoch = epoch

    def after_train_epoch(self, runner):
        if runner.epoch + 1 >= self.epoch:  # epoch counts from 0 here
            import os

            os._exit(3)

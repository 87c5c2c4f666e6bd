# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""A replaced part that kept its base's keys names the fix (_delete_=True),
from FERClassifier and from the train / test tools' runner."""

import os.path as osp
import tempfile
from unittest import TestCase

from mmengine.config import Config
from mmpretrain.registry import MODELS

import fer_mm  # noqa: F401
from fer_mm.engine.runner_setup import build_runner

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))
RESNET = osp.join(REPO, 'configs/resnet/resnet18_1xb64-30e_synthetic-rafdb.py')
HEAD = "dict(type='ARBExHead', num_classes=7, in_channels=512)"
FIX = r"model\.head has the type ARBExHead.*head=dict\(_delete_=True, type='ARBExHead'"


def derived(tmp, head, model_type=None):
    path = osp.join(tmp, 'derived.py')
    extra = f', type={model_type!r}' if model_type else ''
    with open(path, 'w') as f:
        f.write(f'_base_ = [{RESNET!r}]\nmodel = dict(head={head}{extra})\n')
    cfg = Config.fromfile(path)
    cfg.work_dir = tmp
    return cfg


class TestFERClassifier(TestCase):
    def test_replaced_head_without_delete_names_the_fix(self):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = derived(tmp, HEAD, 'FERClassifier')
            # The base's LinearClsHead keys came along.
            self.assertIn('loss', cfg.model.head)
            with self.assertRaisesRegex(
                TypeError, r"unexpected keyword argument 'loss'.*" + FIX
            ):
                MODELS.build(cfg.model)
            head = HEAD.replace('dict(', 'dict(_delete_=True, ')
            fixed = derived(tmp, head, 'FERClassifier')
        self.assertNotIn('loss', fixed.model.head)
        self.assertEqual(
            type(MODELS.build(fixed.model).head).__name__, 'ARBExHead'
        )

    def test_runner_of_the_tools_names_the_fix(self):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = derived(tmp, HEAD)  # mmpretrain's ImageClassifier
            self.assertEqual(cfg.model.type, 'ImageClassifier')
            with self.assertRaisesRegex(TypeError, FIX) as err:
                build_runner(cfg)
            # said once
            self.assertEqual(str(err.exception).count('_delete_=True'), 1)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import importlib.util
import json
import os
import os.path as osp
import random
import sys

import pytest
import torch

from fer_mm.evaluation import soft_vote
from tests.helpers.subproc import run_checked

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool(path):
    spec = importlib.util.spec_from_file_location(
        osp.basename(path)[:-3], osp.join(REPO, path)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_soft_vote_by_hand():
    a = [[0.6, 0.3, 0.1], [0.2, 0.5, 0.3]]
    b = [[0.2, 0.2, 0.6], [0.4, 0.4, 0.2]]
    mean = soft_vote([a, b])
    expected = [[0.4, 0.25, 0.35], [0.3, 0.45, 0.25]]
    assert torch.allclose(mean, torch.tensor(expected, dtype=torch.float64))
    # model b alone would say class 2 for sample 0; the vote says class 0
    assert mean.argmax(1).tolist() == [0, 1]
    weighted = soft_vote([a, b], weights=[3, 1])
    expected = [[0.5, 0.275, 0.225], [0.25, 0.475, 0.275]]
    assert torch.allclose(
        weighted, torch.tensor(expected, dtype=torch.float64)
    )
    with pytest.raises(ValueError, match=r'table 1 has shape \(1, 3\)'):
        soft_vote([a, b[:1]])
    with pytest.raises(ValueError, match='2 non-negative weights'):
        soft_vote([a, b], weights=[1])


def test_member_config(tmp_path):
    tool = _tool('tools/train_bag.py')
    cfg = tool.member_config(
        osp.join(
            REPO, 'configs/lsd/lsd-mtl_resnet18-w8_1xb32-5e_synthetic-lsd.py'
        ),
        0.2,
        3,
    )
    assert cfg.train_dataloader.sampler == dict(
        type='BaggingSampler', fraction=0.2, subset_seed=3, shuffle=True
    )
    assert cfg.randomness.seed == 3


def _fake_training(tool, monkeypatch):
    """Replace the member's training run: write a checkpoint, count calls."""
    calls = []

    def fake_run(cmd, check):
        wd = cmd[cmd.index('--work-dir') + 1]
        ckpt = osp.join(wd, 'epoch_1.pth')
        torch.save({'state_dict': {}}, ckpt)
        with open(osp.join(wd, 'last_checkpoint'), 'w') as f:
            f.write(ckpt)
        calls.append(osp.basename(wd))

    monkeypatch.setattr(tool.subprocess, 'run', fake_run)
    return calls


def test_bag_restart_reuses_finished_members(tmp_path, monkeypatch):
    tool = _tool('tools/train_bag.py')
    calls = _fake_training(tool, monkeypatch)
    cfg = osp.join(
        REPO, 'configs/lsd/lsd-mtl_resnet18-w8_1xb32-5e_synthetic-lsd.py'
    )
    wd = str(tmp_path / 'bag')
    args = [cfg, '--members', '3', '--work-dir', wd]
    tool.main(args)
    assert calls == ['member_0', 'member_1', 'member_2']
    first = json.load(open(osp.join(wd, 'bag.json')))['members']
    # started again: nothing retrained, the same bag.json (wall times kept)
    tool.main(args)
    assert calls == ['member_0', 'member_1', 'member_2']
    again = json.load(open(osp.join(wd, 'bag.json')))['members']
    assert again == first
    # a member whose checkpoint is gone (a run killed mid-way) is retrained
    os.remove(first[1]['checkpoint'])
    tool.main(args)
    assert calls[3:] == ['member_1']
    # another fraction changes every member's config: all retrained
    tool.main(args + ['--fraction', '0.3'])
    assert calls[4:] == ['member_0', 'member_1', 'member_2']
    fractions = json.load(open(osp.join(wd, 'bag.json')))['members']
    assert [m['fraction'] for m in fractions] == [0.3, 0.3, 0.3]
    # --retrain forces it
    tool.main(args + ['--fraction', '0.3', '--retrain'])
    assert calls[7:] == ['member_0', 'member_1', 'member_2']


TINY = """
_base_ = ['{repo}/configs/lsd/{name}']
narrow = dict(type='ResNet', depth=18, base_channels=4, stem_channels=4,
              out_indices=(3, ))
model = dict(backbone=narrow, probe_size=32, head=dict(shared_channels=(8, )),
             neck=dict(num_heads=2){appearance})
train_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root='{data}'))
val_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,
                      dataset=dict(data_root='{data}'))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1, val_interval=1)
"""


def _write(tmp, name, data, appearance):
    path = osp.join(tmp, name)
    extra = ', appearance_backbone=narrow' if appearance else ''
    with open(path, 'w') as f:
        f.write(
            TINY.format(
                repo=REPO,
                name=(
                    'lsd-mtl_resnet18-w8_1xb32-5e_synthetic-lsd.py'
                    if appearance
                    else 'lsd-emotion_resnet18-w8_1xb32-5e_synthetic-lsd.py'
                ),
                data=data,
                appearance=extra,
            )
        )
    return path


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + (
        os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else ''
    )
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env.setdefault('OMP_NUM_THREADS', '1')
    return env


@pytest.mark.slow
def test_train_ddp_bag_and_ensemble(tmp_path):
    from fer_mm.testing.synthetic import generate_lsd

    data = str(tmp_path / 'lsd')
    generate_lsd(
        data, scale=0.0003, val_fraction=0.5, num_workers=1, progress=False
    )
    mt = _write(str(tmp_path), 'mt.py', data, True)
    emo = _write(str(tmp_path), 'emo.py', data, False)
    env = _env()
    # a failed child is reported with its code / signal and output tails
    run = dict(cwd=REPO, env=env)
    # one model, one process
    run_checked(
        [
            sys.executable,
            'tools/train.py',
            mt,
            '--work-dir',
            str(tmp_path / 'single'),
        ],
        **run,
    )
    single = open(tmp_path / 'single' / 'last_checkpoint').read().strip()
    assert osp.isfile(single)
    # the same config on two CPU processes (gloo)
    env['PORT'] = str(random.randint(20000, 40000))
    out = run_checked(
        ['tools/dist_train.sh', mt, '2', '--work-dir', str(tmp_path / 'ddp')],
        **run,
    )
    assert 'Distributed training: True' in out.stdout + out.stderr
    assert osp.isfile(
        open(tmp_path / 'ddp' / 'last_checkpoint').read().strip()
    )
    # a bag of two members of different architectures, 50 % each
    run_checked(
        [
            sys.executable,
            'tools/train_bag.py',
            mt,
            emo,
            '--members',
            '2',
            '--fraction',
            '0.5',
            '--work-dir',
            str(tmp_path / 'bag'),
        ],
        **run,
    )
    bag = json.load(open(tmp_path / 'bag' / 'bag.json'))['members']
    assert [m['subset_seed'] for m in bag] == [0, 1]
    assert [m['source_config'] for m in bag] == [mt, emo]
    log = open(tmp_path / 'bag' / 'member_0' / 'config.py').read()
    assert 'BaggingSampler' in log
    # soft voting over three members: the single model and the bag
    tool = _tool('tools/analysis_tools/ensemble_test.py')
    abaw = str(tmp_path / 'abaw')
    report = tool.main(
        [
            '--models',
            mt,
            single,
            '--bag',
            str(tmp_path / 'bag' / 'bag.json'),
            '--work-dir',
            str(tmp_path / 'ens'),
            '--abaw-out',
            abaw,
        ]
    )
    assert len(report['members']) == 3
    assert 'fer/macro_f1' in report['ensemble']
    members = [
        tool.run_member(cfg, ckpt)
        for cfg, ckpt in [(mt, single)]
        + [(m['config'], m['checkpoint']) for m in bag]
    ]
    mean = sum(m['probs'].double() for m in members) / 3
    assert torch.allclose(report['probs'], mean, atol=1e-6)
    saved = json.load(open(tmp_path / 'ens' / 'ensemble_metrics.json'))
    assert saved['ensemble']['fer/macro_f1'] == pytest.approx(
        report['ensemble']['fer/macro_f1']
    )
    # one ABAW file per "video" (class folder) with the Aff-Wild2 header
    assert len(os.listdir(abaw)) == 6
    first = open(osp.join(abaw, 'ANGER.txt')).read().splitlines()
    assert first[0].startswith('image_location,Neutral,Anger')
    assert first[1].startswith('ANGER/00001.jpg,')

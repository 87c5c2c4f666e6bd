# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Weights-only loading is explicit: ``import fer_mm`` leaves mmengine's
loader alone; fer_mm's tools and configs switch it on, so a crafted
checkpoint is refused by every entry point that reads a fer_mm config."""

import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch

from tests.helpers.tiny_config import tool_env, write_tiny_config

REFUSED = 'Refusing to load checkpoint'
DEMO_CONFIG = 'configs/resnet/resnet18_1xb64-6e_synthetic-rafdb-48px.py'


class _RunsCode:
    """Unpickling this creates a marker file (a harmless 'payload')."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def python(code, repo, env=None):
    return subprocess.run(
        [sys.executable, '-c', textwrap.dedent(code)],
        cwd=repo,
        env=env or tool_env(repo),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def crafted(tmp_path):
    """A checkpoint whose unpickling would run code, and its marker."""
    marker = str(tmp_path / 'payload_ran')
    path = str(tmp_path / 'crafted.pth')
    state = {'state_dict': {'w': torch.ones(1)}, 'meta': _RunsCode(marker)}
    torch.save(state, path)
    return path, marker


def test_import_fer_mm_changes_nothing_process_wide(repo_root):
    env = tool_env(repo_root)
    env.pop('NO_ALBUMENTATIONS_UPDATE', None)
    out = python(
        """
        import os, sys
        from mmengine.runner.checkpoint import CheckpointLoader, load_from_local
        import fer_mm
        import fer_mm.models, fer_mm.datasets, fer_mm.apis
        assert 'albumentations' in sys.modules  # imported on the way
        print('local:', CheckpointLoader._schemes[''] is load_from_local)
        print('env:', os.environ.get('NO_ALBUMENTATIONS_UPDATE'))
        import fer_mm.utils.weights_only_loading
        print('after:', CheckpointLoader._schemes[''].__name__)
        """,
        repo_root,
        env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split('\n')[:3] == [
        'local: True',
        'env: None',
        'after: load_from_local_weights_only',
    ], out.stdout


def test_user_albumentations_setting_is_kept(repo_root):
    env = tool_env(repo_root)
    env['NO_ALBUMENTATIONS_UPDATE'] = '0'
    out = python(
        """
        import os
        import fer_mm
        print(os.environ['NO_ALBUMENTATIONS_UPDATE'])
        """,
        repo_root,
        env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == '0'


def test_runtime_config_enables_it(repo_root):
    from mmengine.config import Config

    for path in (
        'configs/_base_/default_runtime.py',
        'configs/vaegan/vaegan_resnet18-biggan_1xb32-100kiters_rafdb-64x64.py',
        'configs/ecyclegan/'
        'ecyclegan_rrdb2x3_1xb4-40kiters_rafdb-neutral2disgust.py',
    ):
        cfg = Config.fromfile(
            osp.join(repo_root, path), import_custom_modules=False
        )
        assert (
            'fer_mm.utils.weights_only_loading'
            in (cfg.custom_imports['imports'])
        ), path


def _assert_refused(proc, marker, what):
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, f'{what} loaded the crafted checkpoint'
    assert REFUSED in log, f'{what}: {log[-3000:]}'
    assert not osp.exists(marker), f'{what} ran the payload'


@pytest.mark.slow
def test_mmpretrain_init_model_with_fer_mm_config(repo_root, crafted):
    path, marker = crafted
    out = python(
        f"""
        from mmpretrain.apis import init_model
        init_model({DEMO_CONFIG!r}, {path!r}, device='cpu')
        """,
        repo_root,
    )
    _assert_refused(out, marker, 'mmpretrain.apis.init_model')
    # Control: the same call with mmengine's stock loader (torch's own
    # weights-only default) does not get as far as fer_mm's message.
    out = python(
        f"""
        from mmengine.config import Config
        from mmpretrain.apis import init_model
        cfg = Config.fromfile({DEMO_CONFIG!r}, import_custom_modules=False)
        cfg.custom_imports = dict(imports=['fer_mm'])
        import fer_mm
        init_model(cfg, {path!r}, device='cpu')
        """,
        repo_root,
    )
    assert out.returncode != 0 and REFUSED not in out.stdout + out.stderr


@pytest.mark.slow
def test_tools_refuse_crafted_checkpoint(
    synthetic_rafdb, repo_root, tmp_path, crafted
):
    path, marker = crafted
    cfg = write_tiny_config(
        str(tmp_path / 'tiny.py'), repo_root, synthetic_rafdb, epochs=1
    )
    work = str(tmp_path / 'work')
    runs = {
        'tools/train.py load_from': [
            'tools/train.py',
            cfg,
            '--work-dir',
            work,
            '--cfg-options',
            f'load_from={path}',
        ],
        'tools/train.py --resume': [
            'tools/train.py',
            cfg,
            '--work-dir',
            work,
            '--resume',
            path,
        ],
        'tools/test.py': ['tools/test.py', cfg, path, '--work-dir', work],
    }
    for what, cmd in runs.items():
        out = subprocess.run(
            [sys.executable, *cmd],
            cwd=repo_root,
            env=tool_env(repo_root),
            capture_output=True,
            text=True,
            timeout=600,
        )
        _assert_refused(out, marker, what)
    # No checkpoint was written: nothing trained past the refusal.
    assert not any(f.endswith('.pth') for f in os.listdir(work))


@pytest.mark.slow
def test_stock_mmpretrain_train_with_fer_mm_config(
    synthetic_rafdb, repo_root, tmp_path, crafted
):
    import mmpretrain

    stock = osp.join(osp.dirname(mmpretrain.__file__), '.mim/tools/train.py')
    if not osp.isfile(stock):
        pytest.skip('mmpretrain is installed without its .mim tools')
    path, marker = crafted
    roots = [
        f'{loader}.dataset.data_root={synthetic_rafdb}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]
    out = subprocess.run(
        [
            sys.executable,
            stock,
            DEMO_CONFIG,
            '--work-dir',
            str(tmp_path / 'work'),
            '--cfg-options',
            f'load_from={path}',
            *roots,
        ],
        cwd=repo_root,
        env=tool_env(repo_root),
        capture_output=True,
        text=True,
        timeout=600,
    )
    _assert_refused(out, marker, "mmpretrain's tools/train.py")


@pytest.mark.slow
def test_generative_tools_refuse_crafted_checkpoint(
    repo_root, tmp_path, crafted
):
    path, marker = crafted
    runs = {
        'tools/generative/vaegan_generate.py': [
            'tools/generative/vaegan_generate.py',
            'configs/vaegan/vaegan_resnet18-biggan-tiny_1xb16-800iters_'
            'synthetic-rafdb-64x64.py',
            path,
            str(tmp_path / 'vaegan_out'),
            '--num',
            '1',
        ],
        'tools/generative/ecyclegan_translate.py': [
            'tools/generative/ecyclegan_translate.py',
            'configs/ecyclegan/ecyclegan_rrdb2x3-tiny_1xb4-300iters_'
            'synthetic-rafdb-neutral2disgust.py',
            path,
            str(tmp_path / 'ecyclegan_out'),
            '--num',
            '1',
        ],
    }
    for what, cmd in runs.items():
        out = subprocess.run(
            [sys.executable, *cmd],
            cwd=repo_root,
            env=tool_env(repo_root),
            capture_output=True,
            text=True,
            timeout=600,
        )
        _assert_refused(out, marker, what)
        assert not osp.exists(cmd[3]) or not os.listdir(cmd[3]), what

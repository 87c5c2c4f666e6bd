# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner import CheckpointLoader, load_checkpoint

import fer_mm  # noqa: F401
from fer_mm.utils import (
    UnsafeCheckpointError,
    disable_weights_only_loading,
    enable_weights_only_loading,
    load_checkpoint_file,
    weights_only_loading_enabled,
)


@pytest.fixture
def weights_only():
    """fer_mm's loader is mmengine's for the test, and not after it."""
    was = weights_only_loading_enabled()
    enable_weights_only_loading()
    yield
    if not was:
        disable_weights_only_loading()


class _RunsCode:
    """Unpickling this would create a marker file (a harmless 'payload')."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


class _Getattr:
    def __init__(self, target, name):
        self.target, self.name = target, name

    def __reduce__(self):
        return (getattr, (self.target, self.name))


def test_mmengine_style_checkpoint_loads(tmp_path, weights_only):
    buf = HistoryBuffer()
    buf.update(1.5)
    buf.update(2.5)
    ckpt = dict(
        state_dict={'w': torch.arange(3.0)},
        message_hub=dict(log_scalars={'train/loss': buf}),
        meta=dict(seed=np.int64(3), arr=np.arange(4, dtype=np.float32)),
    )
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(ckpt, path)
    loaded = load_checkpoint_file(path)
    assert torch.equal(loaded['state_dict']['w'], torch.arange(3.0))
    assert loaded['message_hub']['log_scalars']['train/loss'].mean() == 2.0
    assert loaded['meta']['arr'].tolist() == [0, 1, 2, 3]
    # The same file through mmengine's own entry point.
    model = torch.nn.Module()
    model.w = torch.nn.Parameter(torch.zeros(3))
    load_checkpoint(model, path)
    assert torch.equal(model.w.data, torch.arange(3.0))


def test_crafted_checkpoint_is_refused_and_code_not_run(
    tmp_path, weights_only
):
    marker = str(tmp_path / 'pwned')
    path = str(tmp_path / 'evil.pth')
    torch.save(
        {'state_dict': {'w': torch.ones(1)}, 'x': _RunsCode(marker)}, path
    )
    with pytest.raises(
        UnsafeCheckpointError, match=r'Refusing to load checkpoint .*evil.pth'
    ):
        load_checkpoint_file(path)
    assert not osp.exists(marker)
    # mmengine's loader for local paths is fer_mm's.
    with pytest.raises(UnsafeCheckpointError):
        CheckpointLoader.load_checkpoint(path)
    assert not osp.exists(marker)
    # Sanity check that the payload is real when unpickled unsafely.
    torch.load(path, weights_only=False)
    assert osp.exists(marker)


def test_getattr_is_restricted(tmp_path):
    ok = str(tmp_path / 'ok.pth')
    torch.save({'m': _Getattr(HistoryBuffer, 'mean')}, ok)
    assert load_checkpoint_file(ok)['m'] == HistoryBuffer.mean
    for target, name in (
        (HistoryBuffer, '__init__'),
        (os, 'getcwd'),
        (np, 'load'),
    ):
        path = str(tmp_path / f'bad_{name}.pth')
        try:
            torch.save({'m': _Getattr(target, name)}, path)
        except (TypeError, pickle.PicklingError):
            continue  # modules cannot be pickled by torch.save
        with pytest.raises(UnsafeCheckpointError):
            load_checkpoint_file(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.pth'):
        load_checkpoint_file(str(tmp_path / 'nothing.pth'))


def test_enable_disable_round_trip():
    from mmengine.runner.checkpoint import load_from_local

    was = weights_only_loading_enabled()
    try:
        disable_weights_only_loading()
        assert CheckpointLoader._get_checkpoint_loader('a.pth') is (
            load_from_local
        )
        assert not weights_only_loading_enabled()
        enable_weights_only_loading()
        enable_weights_only_loading()  # idempotent
        loader = CheckpointLoader._get_checkpoint_loader('a.pth')
        assert loader.__name__ == 'load_from_local_weights_only'
        assert weights_only_loading_enabled()
        # Remote schemes keep mmengine's loaders.
        http = CheckpointLoader._get_checkpoint_loader('https://x/a.pth')
        assert http.__name__ == 'load_from_http'
        disable_weights_only_loading()
        assert CheckpointLoader._get_checkpoint_loader('a.pth') is (
            load_from_local
        )
    finally:
        (
            enable_weights_only_loading
            if was
            else disable_weights_only_loading
        )()


@pytest.mark.parametrize(
    'keep, problem',
    [
        (0, 'the file is empty'),
        (0.5, 'not a complete torch checkpoint'),
        (-10, 'not a complete torch checkpoint'),
        (100, 'not a complete torch checkpoint'),  # 100 bytes of a zip
    ],
)
def test_damaged_checkpoint_names_file_and_problem(tmp_path, keep, problem):
    from fer_mm.utils import CorruptCheckpointError

    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.zeros(1000)}}, good)
    data = good.read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep
    damaged = tmp_path / 'epoch_2.pth'
    damaged.write_bytes(data[:cut] if cut >= 0 else data[:cut])
    size = damaged.stat().st_size
    with pytest.raises(CorruptCheckpointError) as info:
        load_checkpoint_file(str(damaged))
    msg = str(info.value)
    assert str(damaged) in msg and f'({size} bytes)' in msg
    assert problem in msg


def test_damaged_checkpoint_through_mmengine_loader(tmp_path, weights_only):
    from fer_mm.utils import CorruptCheckpointError

    path = tmp_path / 'zero.pth'
    path.write_bytes(b'')
    with pytest.raises(CorruptCheckpointError, match='zero.pth.*empty'):
        load_checkpoint(torch.nn.Linear(2, 2), str(path))

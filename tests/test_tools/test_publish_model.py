# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""tools/model_converters/publish_model.py: training checkpoint -> zoo file."""

import datetime
import hashlib
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub

from tests.helpers.tiny_config import tool_env

sys.path.insert(
    0, osp.join(osp.dirname(__file__), '..', '..', 'tools', 'model_converters')
)
import publish_model  # noqa: E402

DEMO = 'configs/resnet/resnet18_1xb64-6e_synthetic-rafdb-48px.py'
DEMO_NAME = 'resnet18_1xb64-6e_synthetic-rafdb-48px'


def training_checkpoint(path):
    """What mmengine's runner writes: weights, optimizer, schedulers, a
    message hub with HistoryBuffers, numpy values in the meta."""
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(torch.rand(4, 3)).sum().backward()
    opt.step()
    hub = MessageHub.get_instance('publish_test')
    hub.update_scalar('train/loss', 0.5)
    torch.save(
        dict(
            state_dict={f'module.{k}': v for k, v in net.state_dict().items()},
            optimizer=opt.state_dict(),
            param_schedulers=[dict(last_epoch=3)],
            message_hub=hub.state_dict(),
            meta=dict(
                dataset_meta=dict(classes=('A', 'B'), counts=np.array([3, 4])),
                cfg='model = dict()',
                epoch=np.int64(3),
                seed=7,
                time='20261202_120000',
                mmengine_version='0.10.7',
            ),
        ),
        path,
    )
    return net


def test_publish_keeps_weights_and_meta_only(tmp_path):
    src = str(tmp_path / 'epoch_3.pth')
    net = training_checkpoint(src)
    with pytest.raises(Exception):  # the training file is not plain
        torch.load(src, weights_only=True)
    result = publish_model.publish(src, str(tmp_path / 'out' / 'tiny.pth'))
    today = datetime.date.today().strftime('%Y%m%d')
    name = osp.basename(result['path'])
    assert re.fullmatch(rf'tiny_{today}-[0-9a-f]{{8}}\.pth', name)
    with open(result['path'], 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    assert sha == result['sha256'] and name.endswith(f'-{sha[:8]}.pth')
    out = torch.load(result['path'], weights_only=True)  # no allow-list
    assert set(out) == {'state_dict', 'meta'}
    for k, v in net.state_dict().items():
        assert torch.equal(out['state_dict'][k], v)  # 'module.' stripped
    meta = out['meta']
    assert meta['dataset_meta']['classes'] == ('A', 'B')
    assert meta['dataset_meta']['counts'].tolist() == [3, 4]
    assert meta['epoch'] == 3 and type(meta['epoch']) is int
    assert meta['cfg'] == 'model = dict()' and meta['seed'] == 7
    assert meta['fer_mm_version'] and meta['torch_version']
    assert set(result['dropped']) == {
        'optimizer',
        'param_schedulers',
        'message_hub',
        'meta.time',
    }
    assert sorted(os.listdir(tmp_path / 'out')) == [name]  # no temp file


def test_refuses_a_crafted_checkpoint_and_writes_nothing(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ('echo pwned',))

    src = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={}, meta=dict(x=Evil())), src)
    out = tmp_path / 'out'
    assert publish_model.main([src, str(out / 'x.pth')]) == 1
    assert not out.exists() or os.listdir(out) == []


@pytest.mark.slow
def test_demo_checkpoint_published_and_pulled(
    synthetic_rafdb, repo_root, tmp_path
):
    """The demo config trained briefly; its epoch checkpoint published;
    mmpretrain.get_model(name, pretrained=OUT) predicts what FERInferencer
    predicts with the original checkpoint."""
    import mmpretrain

    from fer_mm.apis import FERInferencer
    from fer_mm.apis.backends import PyTorchBackend

    work = str(tmp_path / 'work')
    roots = [
        f'{loader}.dataset.data_root={synthetic_rafdb}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]
    cmd = [
        sys.executable, 'tools/train.py', DEMO, '--work-dir', work,
        '--cfg-options', *roots, 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1',
        'train_dataloader.batch_size=32',
    ]  # fmt: skip
    run = subprocess.run(
        cmd, cwd=repo_root, env=tool_env(repo_root), capture_output=True,
        text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-4000:]
    ckpt = osp.join(work, 'epoch_1.pth')
    pub = subprocess.run(
        [sys.executable, 'tools/model_converters/publish_model.py', ckpt,
         str(tmp_path / 'zoo' / 'resnet18_demo.pth')],
        cwd=repo_root, env=tool_env(repo_root), capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert pub.returncode == 0, pub.stderr[-3000:]
    (out,) = os.listdir(tmp_path / 'zoo')
    out = str(tmp_path / 'zoo' / out)
    assert 'optimizer' in pub.stdout and 'message_hub' in pub.stdout
    assert osp.getsize(out) < 50 * 2**20
    assert osp.getsize(out) < osp.getsize(ckpt) / 2  # the optimizer state
    published = torch.load(out, weights_only=True)
    assert 'Sadness' in published['meta']['dataset_meta']['classes']
    assert 'RAFDB' in published['meta']['cfg']

    pulled = mmpretrain.get_model(DEMO_NAME, pretrained=out)
    assert (
        pulled._dataset_meta['classes']
        == published['meta']['dataset_meta']['classes']
    )
    original = FERInferencer(DEMO, ckpt, detector=None)
    rng = np.random.default_rng(0)
    crops = [
        rng.integers(0, 256, (100, 100, 3), dtype=np.uint8) for _ in range(6)
    ]
    expected = original.classify_crops(crops)
    original.backend = PyTorchBackend(pulled, 'float32')
    assert np.array_equal(original.classify_crops(crops), expected)

    # tools/test.py refuses a checkpoint that does not fit the model (it
    # would score a partly random model).
    other = str(tmp_path / 'other.pth')
    state = dict(published['state_dict'])
    state.pop('head.fc.bias')
    torch.save(dict(state_dict=state), other)
    test = subprocess.run(
        [sys.executable, 'tools/test.py', DEMO, other, '--work-dir',
         str(tmp_path / 'test'), '--cfg-options', *roots],
        cwd=repo_root, env=tool_env(repo_root), capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert test.returncode != 0
    assert 'missing keys: head.fc.bias' in test.stderr

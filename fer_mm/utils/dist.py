# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Distributed launch on machines without a GPU."""

import os
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log


def init_cpu_distributed(timeout_s: Optional[int] = None) -> bool:
    """Initialise a gloo process group from torchrun's environment.

    mmengine 0.10.7's ``init_dist('pytorch')`` calls ``torch.cuda.set_device``
    unconditionally and so cannot start on a CPU-only machine. When no GPU is
    visible this starts the process group itself (gloo backend, env://
    rendezvous). The runner then finds it initialised and skips
    ``init_dist``.

    Returns:
        bool: True if a gloo group was initialised here, False if a GPU is
        present (leave it to mmengine, NCCL) or a group already exists.
    """
    if torch.cuda.is_available() or torch_dist.is_initialized():
        return False
    missing = [
        k
        for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
        if k not in os.environ
    ]
    if missing:
        raise RuntimeError(
            f'--launcher pytorch needs the torchrun environment; missing '
            f'{", ".join(missing)}. Start with tools/dist_train.sh or torchrun.'
        )
    kwargs = {}
    if timeout_s:
        import datetime

        kwargs['timeout'] = datetime.timedelta(seconds=timeout_s)
    torch_dist.init_process_group(
        backend='gloo',
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs,
    )
    return True


def adapt_cfg_to_cpu_distributed(cfg: Config) -> None:
    """Config changes that DDP on CPU needs.

    * the process group backend is gloo;
    * ``MMDistributedDataParallel`` gets ``device_ids=None`` (mmengine passes
      ``[LOCAL_RANK]``, which DDP rejects for a CPU module);
    * SyncBatchNorm falls back to BatchNorm (:func:`sync_bn_to_batch_norm`).
    """
    sync_bn_to_batch_norm(cfg)
    # (ConfigDict.setdefault stores a copy of a new dict: assign instead.)
    env_cfg = dict(cfg.get('env_cfg') or {})
    env_cfg['dist_cfg'] = dict(env_cfg.get('dist_cfg') or {}, backend='gloo')
    cfg.env_cfg = env_cfg
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False
    )
    if wrapper.get('type', 'MMDistributedDataParallel') in (
        'MMDistributedDataParallel',
        'DistributedDataParallel',
        'MMSeparateDistributedDataParallel',
    ):
        wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def _sync_bn_norm_cfgs(node, path=''):
    """Dotted paths of the ``type='SyncBN'`` dicts under ``node``, each
    switched to ``'BN'`` on the way."""
    found = []
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            found.append(path)
        for key, value in node.items():
            found += _sync_bn_norm_cfgs(
                value, f'{path}.{key}' if path else key
            )
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += _sync_bn_norm_cfgs(value, f'{path}[{i}]')
    return found


def sync_bn_to_batch_norm(cfg: Config) -> bool:
    """SyncBatchNorm -> BatchNorm for a run without a GPU, with one log line.

    torch's ``SyncBatchNorm`` only runs on GPU modules (``ValueError:
    SyncBatchNorm layers only work with GPU modules``), so on a CPU (gloo)
    run the runner's ``sync_bn`` is dropped and ``norm_cfg=dict(type=
    'SyncBN')`` of the model becomes ``'BN'``: every process normalises with
    its own batch's statistics, as ``--cfg-options sync_bn=None`` did by
    hand. Call it only when no GPU is used: with GPUs SyncBN stays on.

    Returns:
        bool: Whether something was changed.
    """
    sync_bn = cfg.get('sync_bn', None)
    paths = _sync_bn_norm_cfgs(cfg.get('model', None), 'model')
    if sync_bn is None and not paths:
        return False
    if sync_bn is not None:
        cfg.sync_bn = None
    what = [f'sync_bn={sync_bn!r}'] if sync_bn is not None else []
    what += [f"{p}.type='SyncBN'" for p in paths]
    if int(os.environ.get('RANK', 0)) != 0:
        return True
    print_log(
        f'SyncBatchNorm needs GPUs: this CPU (gloo) run uses BatchNorm, with '
        f'the statistics of each process\'s batch ({", ".join(what)} '
        'ignored).',
        logger='current',
    )
    return True

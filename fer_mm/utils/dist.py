# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Distributed launch on machines without a GPU."""

import os
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config


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
      ``[LOCAL_RANK]``, which DDP rejects for a CPU module).
    """
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
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

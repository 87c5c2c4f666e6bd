# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""What ``tools/train.py`` and ``tools/test.py`` share: config set-up."""

import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.logging import print_log

from ..utils import adapt_cfg_to_cpu_distributed, init_cpu_distributed
from ..utils.config_hints import with_hint
from ..utils.parent_watchdog import exit_with_parent
from ..utils.precision import (
    PRECISION_CHOICES,
    normalize_precision,
    resolve_autocast_dtype,
)


def add_common_args(parser) -> None:
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, xxx=yyy format (e.g. '
        'train_dataloader.dataset.data_root=data/rafdb)',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    # torchrun passes LOCAL_RANK in the environment; older launchers pass it
    # as an argument.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args) -> Config:
    """Load the config, apply ``--cfg-options`` and ``--work-dir``."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join(
            './work_dirs', osp.splitext(osp.basename(args.config))[0]
        )
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return cfg


#: Seconds a collective (all-reduce, barrier) may wait for the other ranks
#: before the job fails, unless ``env_cfg.dist_cfg.timeout`` says otherwise
#: (torch's default is 30 minutes: a stopped rank hung the job that long).
DEFAULT_DIST_TIMEOUT_S = 300


def set_default_dist_timeout(cfg: Config) -> int:
    """Set ``env_cfg.dist_cfg.timeout`` to :data:`DEFAULT_DIST_TIMEOUT_S`
    unless the config sets one; return the timeout in seconds."""
    env_cfg = dict(cfg.get('env_cfg') or {})
    dist_cfg = dict(env_cfg.get('dist_cfg') or {})
    if dist_cfg.get('timeout') is None:
        dist_cfg['timeout'] = DEFAULT_DIST_TIMEOUT_S
        print_log(
            f'env_cfg.dist_cfg.timeout: {DEFAULT_DIST_TIMEOUT_S} s (fer_mm '
            'default; a rank that stops answering ends the job after this)',
            logger='current',
        )
    env_cfg['dist_cfg'] = dist_cfg
    cfg.env_cfg = env_cfg  # (ConfigDict.setdefault would store a copy)
    return dist_cfg['timeout']


def setup_launcher(cfg: Config) -> None:
    """Distributed runs: a collective timeout, ranks that end with their
    launcher; without a GPU, a gloo process group and a CPU model wrapper."""
    if cfg.launcher == 'none':
        return
    set_default_dist_timeout(cfg)
    if 'TORCHELASTIC_RUN_ID' in os.environ:  # started by torchrun
        exit_with_parent()
    if torch.cuda.is_available():
        return
    if cfg.launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {cfg.launcher} needs GPUs; on a CPU-only machine use '
            '--launcher pytorch (tools/dist_train.sh)'
        )
    adapt_cfg_to_cpu_distributed(cfg)
    timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
    init_cpu_distributed(timeout)


def add_amp_args(parser) -> None:
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: fp16 AMP on GPU; on CPU bf16 autocast only '
        'where the CPU has native bf16 (AMX / AVX-512-BF16), else float32',
    )
    parser.add_argument(
        '--amp-dtype',
        default='auto',
        choices=PRECISION_CHOICES + ('bf16', 'fp16', 'fp32'),
        help="with --amp on CPU: 'auto' (by the hardware, the default) or a "
        'forced dtype',
    )


def setup_amp(cfg: Config, dtype: str = 'auto') -> None:
    """``--amp``: fp16 AMP with loss scaling on GPU; on CPU, autocast in the
    dtype :func:`fer_mm.utils.resolve_autocast_dtype` chooses (bf16 where
    native, else float32 with a log line), or ``dtype`` if forced."""
    optim_wrapper = cfg.optim_wrapper
    wrapper_type = optim_wrapper.get('type', 'OptimWrapper')
    if wrapper_type == 'SAMOptimWrapper' and not torch.cuda.is_available():
        # SAM autocasts both of its passes itself (no loss scaling: bf16).
        optim_wrapper['dtype'] = normalize_precision(dtype)
        return
    if wrapper_type not in (
        'OptimWrapper',
        'AmpOptimWrapper',
        'AutocastOptimWrapper',
    ):
        print_log(
            f'--amp: optim_wrapper type {wrapper_type!r} is kept as it is',
            logger='current',
        )
        return
    if torch.cuda.is_available():
        optim_wrapper.type = 'AmpOptimWrapper'
        optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        optim_wrapper.type = 'AutocastOptimWrapper'
        optim_wrapper.pop('loss_scale', None)
        optim_wrapper['dtype'] = normalize_precision(dtype)


def setup_test_amp(cfg: Config, dtype: str = 'auto') -> None:
    """``tools/test.py --amp``: mmengine's test loop autocast (fp16 on GPU;
    on CPU bf16 only where native or forced, else nothing changes)."""
    if torch.cuda.is_available():
        cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)
        return
    chosen = resolve_autocast_dtype('cpu', dtype)
    if chosen is None:
        return
    if chosen != torch.bfloat16:
        raise ValueError(
            f'--amp-dtype {dtype}: the CPU test loop of mmengine autocasts in '
            'bfloat16 only'
        )
    cfg.test_cfg = dict(cfg.get('test_cfg') or {}, fp16=True)


def _evaluators(cfg: Config):
    for key in ('val_evaluator', 'test_evaluator'):
        ev = cfg.get(key)
        if ev is None:
            continue
        metrics = ev.get('metrics', ev) if isinstance(ev, dict) else ev
        if isinstance(metrics, (dict, ConfigDict)):
            metrics = [metrics]
        for metric in metrics:
            yield key, metric


def set_metric_out_dirs(cfg: Config, out_dir: Optional[str] = None) -> None:
    """Point FERMetric's ``out_dir`` (confusion-matrix PNG) at the work dir."""
    for key, metric in _evaluators(cfg):
        if (
            isinstance(metric, dict)
            and metric.get('type') in ('FERMetric', 'fer_mm.FERMetric')
            and not metric.get('out_dir')
        ):
            sub = 'val' if key == 'val_evaluator' else 'test'
            metric['out_dir'] = osp.join(out_dir or cfg.work_dir, sub)


def _describe(aug) -> str:
    if not isinstance(aug, dict):
        return repr(aug)
    args = ', '.join(f'{k}={v!r}' for k, v in aug.items() if k != 'type')
    return f'{aug.get("type")}({args})'


def log_batch_augments(cfg: Config) -> Optional[str]:
    """Say which batch augments (Mixup, CutMix, MixAugment...) training
    uses, and where they are set.

    A model base inherited from mmpretrain brings its ImageNet recipe's
    ``train_cfg`` (ConvNeXt's Mixup + CutMix, for example) into a FER
    config that never mentions it; this line makes that visible.

    Returns:
        str | None: The logged line, or None when there is no batch augment.
    """
    model = cfg.get('model') or {}
    found = []
    for where, holder in (
        ('model.train_cfg', model.get('train_cfg')),
        (
            'model.data_preprocessor.batch_augments',
            (model.get('data_preprocessor') or {}).get('batch_augments'),
        ),
    ):
        augments = (holder or {}).get('augments')
        if augments is None:
            continue
        if isinstance(augments, dict):
            augments = [augments]
        found.append(f'{where}: ' + ', '.join(map(_describe, augments)))
    if not found:
        return None
    line = (
        'batch augments in training: '
        + '; '.join(found)
        + ". A model base from mmpretrain brings its ImageNet recipe's "
        "(e.g. ConvNeXt's Mixup + CutMix); to train without them set "
        'model.train_cfg=None'
    )
    print_log(line, logger='current')
    return line


def build_runner(cfg: Config):
    """The config's runner (``runner_type`` or mmengine's ``Runner``); a
    build error from a part that kept its base config's keys names the fix
    (:func:`fer_mm.utils.config_hints.merged_keys_hint`)."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    try:
        if 'runner_type' in cfg:
            return RUNNERS.build(cfg)
        return Runner.from_cfg(cfg)
    except TypeError as err:
        hinted = with_hint(err, cfg.get('model'))
        if hinted is err:
            raise
        raise hinted from err


_MMENGINE_CHECKPOINT_HOOKS = ('CheckpointHook', 'mmengine.CheckpointHook')


def use_atomic_checkpoint_hook(cfg: Config) -> None:
    """Replace mmengine's ``CheckpointHook`` by fer_mm's crash-safe subclass.

    fer_mm's runtime bases already use
    :class:`~fer_mm.engine.hooks.AtomicCheckpointHook`; a config that names
    mmengine's hook explicitly gets the subclass too (same options), with a
    log line.
    """
    hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if not isinstance(hook, dict) or hook.get('type') not in (
        _MMENGINE_CHECKPOINT_HOOKS
    ):
        return
    hook['type'] = 'AtomicCheckpointHook'
    hook['_scope_'] = 'mmpretrain'
    print_log(
        'default_hooks.checkpoint: CheckpointHook -> AtomicCheckpointHook '
        '(the same options; checkpoints are written crash-safe)',
        logger='current',
    )


def check_resume(cfg: Config) -> None:
    """``--resume`` without a path: say what will be resumed, or why not.

    mmengine reads ``work_dir/last_checkpoint``; when it is missing, the run
    starts from scratch (one log line says so). An empty file, or one naming
    a checkpoint that does not exist, is an error naming the file.
    """
    if not cfg.get('resume') or cfg.get('load_from'):
        return
    marker = osp.join(cfg.work_dir, 'last_checkpoint')
    if not osp.exists(marker):
        print_log(
            f'--resume: no {marker}: nothing to resume, training starts from '
            'scratch',
            logger='current',
        )
        return
    with open(marker) as f:
        target = f.read().strip()
    if not target:
        raise ValueError(
            f'--resume: {marker} is empty; expected the path of the '
            'checkpoint to resume from (pass it as --resume PATH, or delete '
            'the file to start from scratch)'
        )
    if '://' not in target and not osp.isfile(target):
        raise FileNotFoundError(
            f'--resume: {marker} names {target}, which does not exist; pass '
            'an existing checkpoint as --resume PATH'
        )

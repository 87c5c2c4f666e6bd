# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Make a training checkpoint a model-zoo file (mmpretrain's convention).

    python tools/model_converters/publish_model.py IN.pth OUT.pth

IN is a checkpoint written by fer_mm's training (``epoch_N.pth``; read
weights-only, with the allow-list fer_mm uses for mmengine checkpoints) or
by a fer_mm converter. The optimizer, parameter-scheduler and message-hub
states (and any other training state) are dropped; ``state_dict`` and the
meta a user needs are kept: ``dataset_meta`` (class names), ``cfg`` (the
config text), ``epoch`` / ``iter`` / ``seed``, the converter's ``source*``
fields, and the versions of fer_mm, mmengine and torch. Only plain values
are kept (str, numbers, bools, None, lists, tuples, dicts of them, tensors),
so the output loads with ``torch.load(..., weights_only=True)`` and no extra
allow-list; the script checks that before it names the file.

The file is written as ``OUT_STEM_{YYYYMMDD}-{sha256[:8]}.pth`` (the date of
publication and the first 8 hex digits of the file's SHA-256), whole or not
at all, and printed with its full SHA-256.
"""

import argparse
import datetime
import hashlib
import io
import os.path as osp
import sys

import mmengine
import numpy as np
import torch

import fer_mm
from fer_mm.utils import UnsafeCheckpointError, load_checkpoint_file
from fer_mm.utils.atomic_io import atomic_write_bytes
from fer_mm.utils.atomic_save import torch_bytes

#: Top-level checkpoint keys that are training state, not the model.
TRAINING_STATE = ('optimizer', 'param_schedulers', 'message_hub')
#: Meta fields kept (when present).
KEPT_META = (
    'dataset_meta',
    'cfg',
    'epoch',
    'iter',
    'seed',
    'experiment_name',
    'source',
    'source_sha256',
    'source_layout',
    'converter',
)


def plain(value, where: str, dropped: list):
    """``value`` in types the weights-only unpickler accepts, or None
    (appending ``where`` to ``dropped``)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, (list, tuple)):
        items = [
            plain(v, f'{where}[{i}]', dropped) for i, v in enumerate(value)
        ]
        return type(value)(items)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, (str, int)):
                dropped.append(f'{where}[{k!r}]')
                continue
            out[k] = plain(v, f'{where}.{k}', dropped)
        return out
    dropped.append(f'{where} ({type(value).__name__})')
    return None


def slim(checkpoint) -> tuple:
    """``(published, dropped)``: the checkpoint without training state."""
    if not isinstance(checkpoint, dict):
        raise ValueError(f'not a checkpoint dict: {type(checkpoint).__name__}')
    state = checkpoint.get('state_dict', None)
    if state is None:
        if checkpoint and all(
            isinstance(v, torch.Tensor) for v in checkpoint.values()
        ):
            state, checkpoint = checkpoint, {}
        else:
            raise ValueError(
                'no state_dict in the checkpoint (keys: '
                f'{", ".join(map(str, checkpoint))})'
            )
    dropped = [k for k in checkpoint if k not in ('state_dict', 'meta')]
    meta_in = checkpoint.get('meta') or {}
    meta = {}
    for key in KEPT_META:
        if key in meta_in:
            meta[key] = plain(meta_in[key], f'meta.{key}', dropped)
    renewed = ('fer_mm_version', 'mmengine_version', 'torch_version')
    dropped += [f'meta.{k}' for k in meta_in if k not in KEPT_META + renewed]
    meta.update(
        fer_mm_version=fer_mm.__version__,
        mmengine_version=mmengine.__version__,
        torch_version=torch.__version__.split('+')[0],
    )
    weights = {}
    for k, v in state.items():
        if not isinstance(v, torch.Tensor):
            raise ValueError(f'state_dict[{k!r}] is a {type(v).__name__}')
        weights[k[7:] if k.startswith('module.') else k] = v.detach().cpu()
    return dict(state_dict=weights, meta=meta), dropped


def publish(in_file: str, out_file: str, date: str = None) -> dict:
    """Write the published file; return its path, SHA-256 and drops."""
    checkpoint = load_checkpoint_file(in_file, map_location='cpu')
    published, dropped = slim(checkpoint)
    data = torch_bytes(published)
    # The point of publishing: plain weights-only loading works.
    torch.load(io.BytesIO(data), map_location='cpu', weights_only=True)
    sha = hashlib.sha256(data).hexdigest()
    stem = out_file[:-4] if out_file.endswith('.pth') else out_file
    date = date or datetime.date.today().strftime('%Y%m%d')
    final = f'{stem}_{date}-{sha[:8]}.pth'
    atomic_write_bytes(final, data)
    return dict(path=final, sha256=sha, dropped=dropped)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('in_file', help='training or converted checkpoint')
    parser.add_argument(
        'out_file', help='output name; _{date}-{sha256[:8]}.pth is appended'
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = publish(args.in_file, args.out_file)
    except (FileNotFoundError, ValueError, UnsafeCheckpointError) as err:
        print(f'not published: {err}', file=sys.stderr)
        return 1
    size = osp.getsize(result['path']) / 2**20
    if result['dropped']:
        print('dropped: ' + ', '.join(result['dropped']))
    print(f'published {result["path"]} ({size:.1f} MiB)')
    print(f'sha256 {result["sha256"]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

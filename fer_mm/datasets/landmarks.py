# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""68-point facial landmark files (iBUG-68 order).

One line per image: the image name, then 68 ``x y`` pairs in pixels::

    train_00001_aligned.jpg 21.53 40.12 22.04 47.90 ... 61.20 70.33

Any landmark source (DECA, a face-alignment network, the synthetic
generator) can supply them in this form.
"""

from typing import Dict, Sequence

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

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""ABAW4-LSD folders and the FER2013 CSV layouts of the synthetic set."""

import json
import multiprocessing as mp
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from ...datasets.categories import (
    FER2013_CATEGORIES,
    LSD_CATEGORIES,
    RAFDB_CATEGORIES,
)
from ...datasets.landmarks import write_landmarks
from .domain_shift import apply_domain_shift, shift_rng
from .face_renderer import render_face

#: Reported ABAW4-LSD synthetic training counts (Anger ... Surprise).
LSD_TRAIN_COUNTS = (24882, 3803, 6378, 134415, 25459, 14090)
#: Folder names as released: the ANGER folder is misspelled.
LSD_FOLDERS = ('ANGRER', 'DISGUST', 'FEAR', 'HAPPINESS', 'SADNESS', 'SURPRISE')
#: FER2013 class counts (Angry .. Neutral) per Usage.
FER2013_COUNTS = {
    'Training': (3995, 436, 4097, 7215, 4830, 3171, 4965),
    'PublicTest': (467, 56, 496, 895, 653, 415, 607),
    'PrivateTest': (491, 55, 528, 879, 594, 416, 626),
}


def _rafdb_index(name: str) -> int:
    return RAFDB_CATEGORIES.index(name)


def _render_to_file(args) -> np.ndarray:
    """Render and write one image; return its landmarks in its pixels."""
    path, seed, code, index, raf_label, size, shift = args
    img, landmarks = render_face(
        raf_label, np.random.default_rng([seed, code, index])
    )
    if shift:
        img = apply_domain_shift(img, shift, shift_rng(seed, code, index))
    if size != img.shape[0]:
        # Pixel centres map as (x + 0.5) * s - 0.5 under a resize.
        s = size / img.shape[0]
        landmarks = (landmarks + 0.5) * s - 0.5
        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    if not cv2.imwrite(path, img, [cv2.IMWRITE_JPEG_QUALITY, 90]):
        raise OSError(f'could not write {path}')
    return landmarks


def _run(jobs, fn, desc, num_workers, progress):
    bar = tqdm(total=len(jobs), desc=desc, unit='img', disable=not progress)
    out = []
    if (num_workers or os.cpu_count() or 1) > 1:
        with mp.get_context('fork').Pool(num_workers) as pool:
            for res in pool.imap(fn, jobs, chunksize=32):
                out.append(res)
                bar.update()
    else:
        for job in jobs:
            out.append(fn(job))
            bar.update()
    bar.close()
    return out


def _scaled(counts: Sequence[int], scale: float) -> list:
    return [max(2, int(round(c * scale))) for c in counts]


def generate_lsd(
    out_dir: str,
    scale: float = 0.005,
    val_fraction: float = 0.15,
    seed: int = 0,
    folders: Sequence[str] = LSD_FOLDERS,
    num_workers: Optional[int] = None,
    progress: bool = True,
    val_domain_shift: float = 0.0,
) -> Dict:
    """Write the ABAW4 Learning-from-Synthetic-Data folder layout::

        training_set_synthetic_images/<CLASS>/00001.jpg   # ANGER as 'ANGRER'
        validation_set_real_images/<CLASS>/00001.jpg
        landmarks_68/training_set_synthetic_images.txt    # "ANGRER/00001.jpg x1 y1 ..."
        landmarks_68/validation_set_real_images.txt

    Class counts follow the reported LSD counts times ``scale``; the
    validation set is ``val_fraction`` of that, with the correct ANGER name.
    The landmark files hold the 68 iBUG points the renderer drew each face
    through, in the pixels of the written (112x112) image, one line per
    image named by its path relative to the split folder (read them with
    ``ABAW4LSD(..., landmark_file=...)``).

    ``val_domain_shift`` renders the validation ("real") split in a shifted
    domain (:func:`~fer_mm.testing.synthetic.domain_shift.apply_domain_shift`
    of that strength; the faces and landmarks are those of the unshifted
    split), the synthetic-to-real gap of the challenge. 0 (the default)
    leaves both splits in one domain and the settings as before the knob.
    """
    if val_domain_shift < 0:
        raise ValueError(
            f'val_domain_shift must be >= 0, got {val_domain_shift}'
        )
    settings = dict(
        layout='lsd',
        scale=scale,
        val_fraction=val_fraction,
        seed=seed,
        folders=list(folders),
    )
    if val_domain_shift:
        settings['val_domain_shift'] = val_domain_shift
    jobs, counts, names_of = [], {}, {}
    for split, code, names, factor, shift in (
        ('training_set_synthetic_images', 10, folders, 1.0, 0.0),
        (
            'validation_set_real_images',
            11,
            [c.upper() for c in LSD_CATEGORIES],
            val_fraction,
            val_domain_shift,
        ),
    ):
        n = _scaled(LSD_TRAIN_COUNTS, scale * factor)
        counts[split] = dict(zip(names, n))
        index = 0
        for cls, folder, k in zip(LSD_CATEGORIES, names, n):
            os.makedirs(osp.join(out_dir, split, folder), exist_ok=True)
            for j in range(k):
                path = osp.join(out_dir, split, folder, f'{j + 1:05d}.jpg')
                jobs.append(
                    (path, seed, code, index, _rafdb_index(cls), 112, shift)
                )
                names_of[path] = (split, f'{folder}/{j + 1:05d}.jpg')
                index += 1
    points = _run(
        jobs, _render_to_file, 'synthetic LSD', num_workers, progress
    )
    os.makedirs(osp.join(out_dir, 'landmarks_68'), exist_ok=True)
    for split in counts:
        rows = [
            (names_of[job[0]][1], pts)
            for job, pts in zip(jobs, points)
            if names_of[job[0]][0] == split
        ]
        write_landmarks(
            osp.join(out_dir, 'landmarks_68', f'{split}.txt'),
            [name for name, _ in rows],
            [pts for _, pts in rows],
        )
    meta = dict(settings=settings, counts=counts)
    with open(osp.join(out_dir, 'fer_mm_synthetic.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    return meta


def _fer_row(args) -> str:
    seed, index, label = args
    img, _ = render_face(
        _rafdb_index(FER2013_CATEGORIES[label]),
        np.random.default_rng([seed, 20, index]),
    )
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    gray = cv2.resize(gray, (48, 48), interpolation=cv2.INTER_AREA)
    return ' '.join(map(str, gray.ravel().tolist()))


def generate_fer2013(
    out_dir: str,
    scale: float = 0.05,
    seed: int = 0,
    num_workers: Optional[int] = None,
    progress: bool = True,
) -> Dict:
    """Write ``fer2013.csv`` (``emotion,pixels,Usage``; 48x48 gray).

    Rows of each Usage follow FER2013's class counts times ``scale``, in a
    shuffled order.
    """
    rng = np.random.default_rng([seed, 21])
    rows = []
    for usage, counts in FER2013_COUNTS.items():
        labels = np.repeat(np.arange(7), _scaled(counts, scale))
        rows += [(int(y), usage) for y in labels[rng.permutation(len(labels))]]
    jobs = [(seed, i, y) for i, (y, _) in enumerate(rows)]
    pixels = _run(jobs, _fer_row, 'synthetic FER2013', num_workers, progress)
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, 'fer2013.csv'), 'w') as f:
        f.write('emotion,pixels,Usage\n')
        for (y, usage), pix in zip(rows, pixels):
            f.write(f'{y},{pix},{usage}\n')
    meta = dict(
        settings=dict(layout='fer2013', scale=scale, seed=seed),
        counts={u: _scaled(c, scale) for u, c in FER2013_COUNTS.items()},
    )
    with open(osp.join(out_dir, 'fer_mm_synthetic.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    return meta

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Result files of the demos, written whole or not at all.

Every writer writes to a temporary file next to the target and renames it
into place, so an interrupted run never leaves a half-written file.
"""

import csv
import json
import os
import os.path as osp
import tempfile
from contextlib import contextmanager
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from ..evaluation.metrics.abaw_submission import write_abaw_expr_predictions


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_open(path: str, newline: Optional[str] = None):
    """Open a temporary file that replaces ``path`` when the block ends
    without an error (and is deleted otherwise)."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix='.' + osp.basename(path) + '.', dir=folder
    )
    # mkstemp creates the file owner-only (0600); give it the mode a plain
    # open() would: 0666 minus the umask.
    os.chmod(tmp, 0o666 & ~_current_umask())
    try:
        with os.fdopen(fd, 'w', encoding='utf-8', newline=newline) as f:
            yield f
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def to_jsonable(value):
    """numpy values and containers as plain Python."""
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float):
        return round(value, 6)
    return value


def write_json(path: str, data) -> None:
    """Write ``data`` (numpy allowed) as JSON, atomically."""
    with atomic_open(path) as f:
        json.dump(to_jsonable(data), f, indent=1)


def face_row(face: Optional[dict], classes: Sequence[str]) -> List:
    """CSV fields of one face (empty fields for 'no face')."""
    if face is None:
        return [''] * (10 + 10 + len(classes))
    box = [f'{v:.1f}' for v in face['bbox']]
    marks = face.get('landmarks')
    marks = (
        [''] * 10
        if marks is None
        else [f'{v:.1f}' for v in np.asarray(marks).reshape(-1)]
    )
    det = face.get('det_score')
    return [
        face.get('track_id', ''),
        '' if det is None else f'{det:.4f}',
        *box,
        face['pred_label'],
        face['pred_class'],
        f'{face["pred_score"]:.6f}',
        *marks,
        *(f'{p:.6f}' for p in face['pred_scores']),
    ]


def face_header(classes: Sequence[str]) -> List[str]:
    marks = [
        f'{p}_{c}'
        for p in ('leye', 'reye', 'nose', 'lmouth', 'rmouth')
        for c in 'xy'
    ]
    return [
        'track_id',
        'det_score',
        'x1',
        'y1',
        'x2',
        'y2',
        'pred_label',
        'pred_class',
        'pred_score',
        *marks,
        *(f'p_{c}' for c in classes),
    ]


def write_csv(
    path: str, header: Sequence[str], rows: Iterable[Sequence]
) -> None:
    """Write a CSV file atomically."""
    with atomic_open(path, newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def abaw_labels(
    frames: Dict[int, Optional[int]], num_frames: int
) -> Dict[int, int]:
    """One label per frame ``1..num_frames`` for an ABAW submission.

    Frames without a prediction (no face, or skipped by the stride) take the
    label of the nearest earlier predicted frame (the first predicted one
    before any prediction).

    Args:
        frames (dict[int, int | None]): 0-based frame index -> label.
        num_frames (int): Frames of the video.

    Returns:
        dict[int, int]: 1-based frame number -> label.
    """
    known = sorted(k for k, v in frames.items() if v is not None)
    if not known:
        raise ValueError('no face was found in any frame: nothing to submit')
    out, last = {}, frames[known[0]]
    for i in range(num_frames):
        if frames.get(i) is not None:
            last = frames[i]
        out[i + 1] = last
    return out


def write_abaw(
    out_dir: str, video: str, labels: Dict[int, int], classes: Sequence[str]
) -> str:
    """Write ``<out_dir>/<video>.txt`` in the ABAW EXPR format (atomically,
    through :func:`~fer_mm.evaluation.metrics.abaw_submission.write_abaw_expr_predictions`
    in a temporary folder)."""
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix='.abaw.') as tmp:
        (written,) = write_abaw_expr_predictions(tmp, {video: labels}, classes)
        target = osp.join(out_dir, osp.basename(written))
        os.replace(written, target)
    return target


class StagedOutput:
    """Files written into a hidden staging folder of ``out_dir`` and moved
    into ``out_dir`` only by :meth:`commit` (removed by :meth:`discard`).

    Use it as a context manager: it commits when the block succeeds and
    discards on an error, so a failed run leaves ``out_dir`` as it was.
    """

    def __init__(self, out_dir: str):
        self.out_dir = out_dir
        os.makedirs(out_dir, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix='.staging.', dir=out_dir)

    def path(self, relpath: str) -> str:
        """Where to write the file that will become ``out_dir/relpath``."""
        path = osp.join(self.tmp, relpath)
        os.makedirs(osp.dirname(path), exist_ok=True)
        return path

    def commit(self) -> List[str]:
        moved = []
        for root, _, files in os.walk(self.tmp):
            for name in files:
                src = osp.join(root, name)
                dst = osp.join(self.out_dir, osp.relpath(src, self.tmp))
                os.makedirs(osp.dirname(dst), exist_ok=True)
                os.replace(src, dst)
                moved.append(dst)
        self.discard()
        return moved

    def discard(self) -> None:
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> 'StagedOutput':
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Inference results as a table: one row per face, the CSV's columns."""

from typing import List, Sequence

import numpy as np

from .writers import face_header


def _is_face(item) -> bool:
    return isinstance(item, dict) and 'pred_scores' in item


def as_records(results) -> List[dict]:
    """Results of :class:`~fer_mm.apis.FERInferencer` as image records.

    Args:
        results (list): What the inferencer returned: the faces of one image
            (a list of face dicts), records of several images (dicts with
            ``image`` and ``faces``), or the frames of a video (a list of
            face lists; a frame is named by its index).

    Returns:
        list[dict]: ``dict(image=..., faces=[...])`` per image or frame.
    """
    results = list(results)
    if not results or _is_face(results[0]):
        return [dict(image='', faces=results)]
    if isinstance(results[0], dict) and 'faces' in results[0]:
        return results
    records = []
    for i, faces in enumerate(results):
        name = faces[0].get('frame', i) if faces else i
        records.append(dict(image=name, faces=list(faces)))
    return records


def face_values(face: dict, classes: Sequence[str]) -> list:
    """The numeric fields of one face, in :func:`face_header`'s order
    (missing values as NaN)."""
    nan = float('nan')
    det = face.get('det_score')
    marks = face.get('landmarks')
    marks = (
        [nan] * 10
        if marks is None
        else [float(v) for v in np.asarray(marks).reshape(-1)]
    )
    return [
        face.get('track_id', nan),
        nan if det is None else float(det),
        *(float(v) for v in face['bbox']),
        int(face['pred_label']),
        face['pred_class'],
        float(face['pred_score']),
        *marks,
        *(float(p) for p in face['pred_scores']),
    ]


def to_dataframe(results, classes: Sequence[str]):
    """One row per face, with the columns of the demo's
    ``predictions.csv``: ``image``, ``face``, then :func:`face_header`
    (box, label, class, score, the 5 points and ``p_<class>`` per class).

    An image without a face keeps one row with ``face`` and the face fields
    missing (NaN), as in the CSV.

    Args:
        results (list): See :func:`as_records`.
        classes (Sequence[str]): Class names (``inferencer.classes``).

    Returns:
        pandas.DataFrame: The table.
    """
    import pandas as pd

    header = face_header(classes)
    rows = []
    for record in as_records(results):
        faces = record['faces']
        for i, face in enumerate(faces):
            rows.append([record['image'], i, *face_values(face, classes)])
        if not faces:
            rows.append([record['image']] + [float('nan')] * (1 + len(header)))
    frame = pd.DataFrame(rows, columns=['image', 'face', *header])
    for col in ('face', 'pred_label'):
        frame[col] = frame[col].astype('Int64')
    return frame

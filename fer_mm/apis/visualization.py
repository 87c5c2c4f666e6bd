# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Draw faces and their predicted expressions on an image (OpenCV)."""

from typing import List

import cv2
import numpy as np

_COLORS = [
    (66, 135, 245),
    (80, 200, 120),
    (60, 60, 230),
    (0, 200, 255),
    (200, 120, 40),
    (180, 80, 200),
    (200, 200, 200),
    (40, 170, 170),
]


def draw_faces(img: np.ndarray, faces: List[dict]) -> np.ndarray:
    """A copy of ``img`` with every face's box, 5 points and label.

    Args:
        img (np.ndarray): BGR image.
        faces (list[dict]): The inferencer's faces (``bbox``, ``landmarks``,
            ``pred_class``, ``pred_score``; ``track_id`` if any).

    Returns:
        np.ndarray: The drawn image.
    """
    out = img.copy()
    thick = max(1, round(min(img.shape[:2]) / 300))
    for i, face in enumerate(faces):
        color = _COLORS[int(face.get('track_id', i)) % len(_COLORS)]
        x1, y1, x2, y2 = (int(round(v)) for v in face['bbox'])
        cv2.rectangle(out, (x1, y1), (x2, y2), color, thick, cv2.LINE_AA)
        if face.get('landmarks') is not None:
            for x, y in np.asarray(face['landmarks']).reshape(-1, 2):
                cv2.circle(
                    out,
                    (int(round(x)), int(round(y))),
                    thick + 1,
                    color,
                    -1,
                    cv2.LINE_AA,
                )
        label = f'{face["pred_class"]} {face["pred_score"]:.2f}'
        scale = 0.4 * thick + 0.1
        (tw, th), base = cv2.getTextSize(
            label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick
        )
        ty = y1 - 4 if y1 - th - base - 4 >= 0 else y2 + th + 4
        cv2.rectangle(
            out, (x1, ty - th - base), (x1 + tw + 4, ty + base), color, -1
        )
        cv2.putText(
            out,
            label,
            (x1 + 2, ty),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (0, 0, 0),
            thick,
            cv2.LINE_AA,
        )
    return out

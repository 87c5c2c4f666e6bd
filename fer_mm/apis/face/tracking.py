# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Following faces between frames: landmark flow and IoU tracks."""

from typing import Dict, List, Optional

import cv2
import numpy as np

from .alignment import similarity_transform, transform_points
from .base_detector import FaceDetections


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix ``(len(a), len(b))`` of ``x1, y1, x2, y2`` boxes."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(-1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


class LandmarkFlow:
    """Move detected faces to the next frame by optical flow.

    The 5 points of every face are followed with pyramidal Lucas-Kanade
    flow, checked forward-backward; the box follows the similarity transform
    between the old and new points. A face whose points cannot be followed
    (fewer than 3 points pass the check) is dropped: it is lost until the
    next detection.

    Args:
        max_fb_error (float): Largest forward-backward error of a point, in
            pixels. Defaults to 1.5.
        win_size (int): Flow window side. Defaults to 21.
        levels (int): Pyramid levels. Defaults to 3.
    """

    def __init__(
        self, max_fb_error: float = 1.5, win_size: int = 21, levels: int = 3
    ):
        self.max_fb_error = max_fb_error
        self.lk = dict(
            winSize=(win_size, win_size),
            maxLevel=levels,
            criteria=(
                cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT,
                20,
                0.03,
            ),
        )

    def __call__(
        self, prev_gray: np.ndarray, gray: np.ndarray, faces: FaceDetections
    ) -> FaceDetections:
        """The faces of ``prev_gray`` moved onto ``gray``."""
        if not len(faces):
            return faces
        pts = faces.landmarks.reshape(-1, 1, 2).astype(np.float32)
        nxt, st, _ = cv2.calcOpticalFlowPyrLK(
            prev_gray, gray, pts, None, **self.lk
        )
        back, st_b, _ = cv2.calcOpticalFlowPyrLK(
            gray, prev_gray, nxt, None, **self.lk
        )
        fb = np.linalg.norm(back - pts, axis=-1).reshape(-1, 5)
        ok = (st.reshape(-1, 5) > 0) & (st_b.reshape(-1, 5) > 0)
        ok &= fb <= self.max_fb_error
        nxt = nxt.reshape(-1, 5, 2)
        keep, boxes, marks = [], [], []
        for i in range(len(faces)):
            if ok[i].sum() < 3:
                continue
            mat = similarity_transform(
                faces.landmarks[i][ok[i]], nxt[i][ok[i]]
            )
            keep.append(i)
            marks.append(transform_points(faces.landmarks[i], mat))
            boxes.append(_move_box(faces.bboxes[i], mat))
        if not keep:
            return FaceDetections(
                landmarks_estimated=faces.landmarks_estimated
            )
        return FaceDetections(
            np.stack(boxes),
            faces.scores[keep],
            np.stack(marks),
            faces.landmarks_estimated,
        )


def _move_box(box: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """An axis-aligned box moved and scaled by a similarity transform."""
    centre = transform_points((box[:2] + box[2:]) / 2, mat)
    scale = float(np.sqrt(abs(np.linalg.det(mat[:, :2]))))
    half = (box[2:] - box[:2]) * scale / 2
    return np.concatenate([centre - half, centre + half])


class IoUTracker:
    """Give faces identities across frames and smooth their scores.

    Each new box joins the unmatched track of the previous frames with the
    highest IoU above ``iou_thr`` (greedy, best pairs first); others start a
    new track. A track not seen for ``max_age`` processed frames ends.
    With ``momentum`` m > 0 a track's scores are an exponential moving
    average ``s_t = m s_{t-1} + (1 - m) p_t`` of the model's probabilities.

    Args:
        iou_thr (float): Smallest IoU to continue a track. Defaults to 0.3.
        max_age (int): Frames a track survives unseen. Defaults to 5.
        momentum (float): Score smoothing in ``[0, 1)``; 0 keeps the raw
            scores. Defaults to 0.
    """

    def __init__(
        self, iou_thr: float = 0.3, max_age: int = 5, momentum: float = 0.0
    ):
        if not 0 <= momentum < 1:
            raise ValueError(f'momentum must be in [0, 1), got {momentum}')
        self.iou_thr = iou_thr
        self.max_age = max_age
        self.momentum = momentum
        self.tracks: Dict[int, dict] = {}
        self._next_id = 0

    def update(
        self, bboxes: np.ndarray, scores: Optional[np.ndarray] = None
    ) -> List[tuple]:
        """Assign tracks to this frame's boxes.

        Args:
            bboxes (np.ndarray): ``(N, 4)`` boxes of this frame.
            scores (np.ndarray, optional): ``(N, C)`` class probabilities.

        Returns:
            list[tuple[int, np.ndarray | None]]: ``(track id, smoothed
            scores)`` per box.
        """
        bboxes = np.asarray(bboxes, np.float64).reshape(-1, 4)
        ids = list(self.tracks)
        prev = np.array([self.tracks[t]['bbox'] for t in ids]).reshape(-1, 4)
        iou = box_iou(bboxes, prev)
        assigned: Dict[int, int] = {}
        pairs = sorted(
            (
                (iou[i, j], i, j)
                for i in range(len(bboxes))
                for j in range(len(ids))
            ),
            reverse=True,
        )
        used = set()
        for value, i, j in pairs:
            if value < self.iou_thr:
                break
            if i in assigned or j in used:
                continue
            assigned[i] = ids[j]
            used.add(j)
        out = []
        for i, box in enumerate(bboxes):
            if i not in assigned:
                assigned[i] = self._next_id
                self.tracks[self._next_id] = dict(scores=None)
                self._next_id += 1
            track = self.tracks[assigned[i]]
            track.update(bbox=box, age=0)
            smooth = None
            if scores is not None:
                p = np.asarray(scores[i], np.float64)
                if track['scores'] is None or self.momentum == 0:
                    smooth = p
                else:
                    m = self.momentum
                    smooth = m * track['scores'] + (1 - m) * p
                track['scores'] = smooth
            out.append((assigned[i], smooth))
        seen = set(assigned.values())
        for tid in list(self.tracks):
            if tid not in seen:
                self.tracks[tid]['age'] += 1
                if self.tracks[tid]['age'] > self.max_age:
                    del self.tracks[tid]
        return out

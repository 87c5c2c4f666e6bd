# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""The face detector interface and its registry."""

from abc import ABCMeta, abstractmethod
from dataclasses import dataclass, field
from typing import List, Sequence, Union

import numpy as np
from mmengine.registry import Registry

#: Face detectors: ``FACE_DETECTORS.build(dict(type='MTCNNDetector'))``.
#: Register your own (e.g. a local YuNet / RetinaFace ONNX file) with
#: ``@FACE_DETECTORS.register_module()`` on a :class:`BaseFaceDetector`.
FACE_DETECTORS = Registry('face detector')


@dataclass
class FaceDetections:
    """The faces found in one image.

    Attributes:
        bboxes (np.ndarray): ``(N, 4)`` float32 boxes ``x1, y1, x2, y2`` in
            pixels.
        scores (np.ndarray): ``(N,)`` float32 detection scores (the
            detector's own scale).
        landmarks (np.ndarray): ``(N, 5, 2)`` float32 points: left eye,
            right eye, nose tip, left and right mouth corner (image left to
            right).
        landmarks_estimated (bool): True when the detector gives no
            landmarks and they were placed from the box (Haar cascades).
    """

    bboxes: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 4), np.float32)
    )
    scores: np.ndarray = field(
        default_factory=lambda: np.zeros((0,), np.float32)
    )
    landmarks: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 5, 2), np.float32)
    )
    landmarks_estimated: bool = False

    def __post_init__(self):
        self.bboxes = np.asarray(self.bboxes, np.float32).reshape(-1, 4)
        self.scores = np.asarray(self.scores, np.float32).reshape(-1)
        self.landmarks = np.asarray(self.landmarks, np.float32).reshape(
            -1, 5, 2
        )
        if not len(self.bboxes) == len(self.scores) == len(self.landmarks):
            raise ValueError(
                f'FaceDetections: {len(self.bboxes)} boxes, '
                f'{len(self.scores)} scores and {len(self.landmarks)} '
                'landmark sets'
            )

    def __len__(self) -> int:
        return len(self.bboxes)

    def select(
        self, keep: Union[np.ndarray, Sequence[int]]
    ) -> 'FaceDetections':
        """The faces at indices (or boolean mask) ``keep``."""
        keep = np.asarray(keep)
        return FaceDetections(
            self.bboxes[keep],
            self.scores[keep],
            self.landmarks[keep],
            self.landmarks_estimated,
        )


class BaseFaceDetector(metaclass=ABCMeta):
    """A face detector: BGR image in, :class:`FaceDetections` out.

    Subclasses implement :meth:`detect`; :meth:`detect_batch` may be
    overridden where the detector batches images itself.
    """

    @abstractmethod
    def detect(self, img: np.ndarray) -> FaceDetections:
        """Detect the faces of one ``(H, W, 3)`` uint8 BGR image."""

    def detect_batch(self, imgs: Sequence[np.ndarray]) -> List[FaceDetections]:
        """Detect the faces of several images."""
        return [self.detect(img) for img in imgs]

    def __call__(self, img: np.ndarray) -> FaceDetections:
        return self.detect(img)


def check_image(img: np.ndarray, who: str) -> np.ndarray:
    """Validate an ``(H, W, 3)`` uint8 BGR image."""
    if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3:
        shape = getattr(img, 'shape', type(img).__name__)
        raise ValueError(f'{who} expects an (H, W, 3) BGR image, got {shape}')
    if img.dtype != np.uint8:
        raise ValueError(f'{who} expects a uint8 image, got {img.dtype}')
    return img

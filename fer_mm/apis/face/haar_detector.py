# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""OpenCV Haar cascade face detector (Viola & Jones), the light fallback."""

import os.path as osp
from typing import Optional, Tuple

import cv2
import numpy as np

from .base_detector import (
    FACE_DETECTORS,
    BaseFaceDetector,
    FaceDetections,
    check_image,
)
from .image_limits import check_pixel_limit, downscale_to

#: Where the 5 points sit in a frontal Haar box, as fractions of its side
#: (x, y): left eye, right eye, nose tip, left and right mouth corner. Measured
#: once as MTCNN's landmarks on scikit-image's astronaut photograph expressed
#: in the Haar box of the same face, then made left-right symmetric.
HAAR_BOX_LANDMARKS = np.array(
    [[0.28, 0.386], [0.72, 0.386], [0.5, 0.663], [0.27, 0.785], [0.73, 0.785]],
    dtype=np.float32,
)


@FACE_DETECTORS.register_module()
class HaarDetector(BaseFaceDetector):
    """Frontal-face Haar cascade from the OpenCV wheel.

    A cascade gives boxes only: the 5 points are placed in each box with
    :data:`HAAR_BOX_LANDMARKS` (``landmarks_estimated=True``), which is right
    for upright frontal faces only. Scores are the cascade's last-stage
    weights (larger is surer; not probabilities).

    Args:
        cascade (str): A file of ``cv2.data.haarcascades`` or a path.
            Defaults to 'haarcascade_frontalface_default.xml'.
        scale_factor (float): Pyramid step. Defaults to 1.1.
        min_neighbors (int): Overlapping hits a face needs. Defaults to 5.
        min_size (tuple[int, int]): Smallest face (w, h). Defaults to
            (40, 40).
        max_size (tuple[int, int], optional): Largest face. Defaults to None.
        max_side (int): A longer image side beyond this is detected on a
            copy downscaled to it (boxes in the original's pixels; ``min_size``
            applies to the copy). Defaults to 1600.
        max_pixels (int): Larger images are refused with a ``ValueError``
            naming their size. Defaults to 200_000_000.
    """

    def __init__(
        self,
        cascade: str = 'haarcascade_frontalface_default.xml',
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: Tuple[int, int] = (40, 40),
        max_size: Optional[Tuple[int, int]] = None,
        max_side: int = 1600,
        max_pixels: int = 200_000_000,
    ):
        path = cascade
        if not osp.isfile(path):
            path = osp.join(cv2.data.haarcascades, cascade)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'Haar cascade not found: {cascade} (neither a file nor in '
                f'{cv2.data.haarcascades})'
            )
        self.cascade = cv2.CascadeClassifier(path)
        if self.cascade.empty():
            raise ValueError(f'cannot load the Haar cascade {path}')
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = tuple(min_size)
        self.max_size = tuple(max_size) if max_size else (0, 0)
        self.max_side = max_side
        self.max_pixels = max_pixels

    def detect(self, img: np.ndarray) -> FaceDetections:
        check_image(img, 'HaarDetector')
        check_pixel_limit(img, self.max_pixels, 'HaarDetector')
        img, sx, sy = downscale_to(img, self.max_side)
        gray = cv2.equalizeHist(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
        rects, _, weights = self.cascade.detectMultiScale3(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=self.min_size,
            maxSize=self.max_size,
            outputRejectLevels=True,
        )
        if len(rects) == 0:
            return FaceDetections(landmarks_estimated=True)
        rects = np.asarray(rects, np.float32).reshape(-1, 4)
        rects *= np.array([sx, sy, sx, sy], np.float32)  # original pixels
        scores = np.asarray(weights, np.float32).reshape(-1)
        bboxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], 1)
        landmarks = (
            rects[:, None, :2] + HAAR_BOX_LANDMARKS[None] * rects[:, None, 2:]
        )
        order = np.argsort(-scores, kind='stable')
        return FaceDetections(
            bboxes[order], scores[order], landmarks[order], True
        )

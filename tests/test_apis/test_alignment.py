# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
import cv2
import numpy as np
import pytest

from fer_mm.apis.face import TEMPLATES, FaceAligner, similarity_transform
from fer_mm.testing.synthetic.face_renderer import (
    expression_vector,
    random_identity,
    render_frame,
)
from tests.helpers.face_geometry import MEAN_GEOMETRY


def five_points(pts68):
    """Eye centres, nose tip, mouth corners of iBUG-68 landmarks."""
    return np.stack(
        [
            pts68[36:42].mean(0),
            pts68[42:48].mean(0),
            pts68[30],
            pts68[48],
            pts68[54],
        ]
    )


def test_similarity_recovers_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (5, 2))
    # Built independently: cv2's rotation matrix about a point, plus shift.
    mat = cv2.getRotationMatrix2D((30.0, 40.0), 17.0, 1.3)
    mat[:, 2] += (5.0, -7.0)
    dst = src @ mat[:, :2].T + mat[:, 2]
    np.testing.assert_allclose(similarity_transform(src, dst), mat, atol=1e-9)


def test_similarity_never_reflects():
    src = np.array([[0, 0], [10, 0], [5, 8], [2, 12], [8, 12]], float)
    mirrored = src * [-1, 1]
    mat = similarity_transform(src, mirrored)
    assert np.linalg.det(mat[:, :2]) > 0


def test_similarity_rejects_bad_points():
    with pytest.raises(ValueError, match='coincide'):
        similarity_transform(np.ones((5, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match='at least 2'):
        similarity_transform(np.ones((1, 2)), np.zeros((1, 2)))


def test_aligner_arguments():
    with pytest.raises(KeyError, match='unknown alignment template'):
        FaceAligner('nope')
    with pytest.raises(ValueError, match='template_size is required'):
        FaceAligner(np.zeros((5, 2)))
    with pytest.raises(ValueError, match='5 \\(x, y\\) landmarks'):
        FaceAligner().matrix(np.zeros((68, 2)))
    aligner = FaceAligner('rafdb', out_size=200)
    assert aligner.out_size == (200, 200)
    np.testing.assert_allclose(aligner.template, TEMPLATES['rafdb'][0] * 2)


@pytest.mark.parametrize(
    'identity, pose, out_size, tol',
    [
        # The average face: its 5 points are the template's, so the eyes
        # must land almost exactly.
        ('mean', (20.0, 1.1, 5.0, -4.0), 100, 0.5),
        ('mean', (-25.0, 0.9, -6.0, 3.0), 224, 0.5),
        # A random face differs from the template (eye spacing, mouth
        # height): the least-squares fit puts its eyes within 2 px.
        ('random', (20.0, 1.1, 5.0, -4.0), 100, 2.0),
        ('random', (-25.0, 0.9, -6.0, 3.0), 100, 2.0),
        ('random', (12.0, 1.0, 3.0, 6.0), 224, 2.0),
    ],
)
def test_rendered_face_eyes_land_on_template(identity, pose, out_size, tol):
    """A synthetic face rendered at a known roll / scale / shift: marks drawn
    at its true eye centres end up at the template's eye positions in the
    aligned crop (found from the warped pixels, not from the matrix).
    Distances are in pixels of the 100x100 template frame."""
    rng = np.random.default_rng(3)
    idt = random_identity(rng)
    if identity == 'mean':
        idt.update(MEAN_GEOMETRY)
    expr = expression_vector(6, 0.0, rng)  # Neutral
    background = np.full((100, 100, 3), 128, np.uint8)
    img, pts = render_frame(
        idt,
        expr,
        background,
        rng,
        pose=pose,
        light=(0.0, 0.0, 1.0),
        occluder=False,
    )
    # Upscale so that 2 px marks stay sharp after the warp.
    k = 4
    img = cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    five = five_points(pts) * k + (k - 1) / 2
    # Green and blue discs (1.5 px radius at the original scale): no part
    # of the rendered face is strongly green or blue.
    marks = [(0, 255, 0), (255, 0, 0)]
    for (x, y), color in zip(five[:2], marks):
        centre = (int(round(x * 16)), int(round(y * 16)))
        cv2.circle(img, centre, 6 * 16, color, -1, cv2.LINE_AA, 4)

    aligner = FaceAligner('rafdb', out_size=out_size)
    crop, _ = aligner.align(img, five)
    assert crop.shape == (out_size, out_size, 3)
    expected = TEMPLATES['rafdb'][0][:2] * out_size / 100
    crop = crop.astype(float)
    for channel, want in ((1, expected[0]), (0, expected[1])):
        others = np.delete(crop, channel, axis=2).max(-1)
        weight = np.clip(crop[..., channel] - others - 100, 0, None)
        assert weight.sum() > 0, 'eye mark not found in the aligned crop'
        ys, xs = np.mgrid[: crop.shape[0], : crop.shape[1]]
        found = (
            np.array([(xs * weight).sum(), (ys * weight).sum()]) / weight.sum()
        )
        err = np.linalg.norm(found - want) * 100 / out_size
        assert err < tol, (found, want)


def test_template_is_the_mean_synthetic_face():
    """The rafdb template is where the generator puts the 5 points of an
    average upright neutral face (identity means written out here)."""
    from fer_mm.testing.synthetic.face_renderer import face_landmarks

    idt = dict(MEAN_GEOMETRY)
    neutral = np.array([0, 0, 1, 0, 0, 1, 0, 0], float)
    pts = five_points(face_landmarks(idt, neutral))
    np.testing.assert_allclose(pts, TEMPLATES['rafdb'][0], atol=0.01)

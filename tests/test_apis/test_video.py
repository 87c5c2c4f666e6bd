# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Video input: stride, detection every K frames with flow in between,
score smoothing, and files that cannot be opened or end early."""

import os

import cv2
import numpy as np
import pytest

from fer_mm.apis.face import MTCNNDetector

from .conftest import moving_frames, write_clip

N = 20


@pytest.fixture(scope='module')
def clip(tmp_path_factory, astronaut):
    frames, mats = moving_frames(astronaut, N)
    path = str(tmp_path_factory.mktemp('clip') / 'astro.avi')
    write_clip(path, frames, fourcc='MJPG')
    return path, mats


def test_stride_detect_every_and_flow(inferencer, clip, astronaut):
    path, mats = clip
    out = list(inferencer.iter_video(path, every=2, detect_every=5))
    assert [i for i, _, _ in out] == list(range(0, N, 2))
    stats = inferencer.stats
    # Kept frames 0..9: the detector runs on the 1st and the 6th.
    assert stats['detector_runs'] == 2
    assert stats['frames'] == 10 and stats['faces'] == 10
    assert stats['frames_without_face'] == 0 and stats['flow_lost'] == 0
    assert {f[0]['track_id'] for _, _, f in out} == {0}
    # Followed points stay on the true (moved) landmarks of the photo.
    marks = MTCNNDetector().detect(astronaut).landmarks[0].astype(float)
    for index, _, faces in out:
        mat = mats[index]
        true = marks @ mat[:, :2].T + mat[:, 2]
        err = np.linalg.norm(faces[0]['landmarks'] - true, axis=1).max()
        assert err < 3.0, (index, err)
        assert faces[0]['frame'] == index
        assert faces[0]['time'] == pytest.approx(index / 25.0)


def test_smoothing_is_the_ema_of_raw_scores(inferencer, clip):
    path, _ = clip
    m = 0.6
    out = list(
        inferencer.iter_video(path, smooth=m, detect_every=3, max_frames=6)
    )
    assert len(out) == 6
    raw = [f[0]['raw_scores'] for _, _, f in out]
    got = [f[0]['pred_scores'] for _, _, f in out]
    ema = raw[0]
    np.testing.assert_allclose(got[0], ema, atol=1e-6)
    for r, g in zip(raw[1:], got[1:]):
        ema = m * ema + (1 - m) * r
        np.testing.assert_allclose(g, ema, atol=1e-6)
    for _, _, (face,) in out:
        assert face['pred_label'] == int(np.argmax(face['pred_scores']))
        assert face['pred_score'] == pytest.approx(face['pred_scores'].max())
    # The raw scores do change along the clip (the EMA is not trivial).
    assert np.abs(raw[-1] - raw[0]).max() > 1e-4


def test_call_writes_the_drawn_video(inferencer, clip, tmp_path):
    path, _ = clip
    results = inferencer(path, out_dir=str(tmp_path), every=4, detect_every=5)
    assert len(results) == N // 4 and all(len(r) == 1 for r in results)
    assert os.listdir(tmp_path) == ['astro.mp4']
    cap = cv2.VideoCapture(str(tmp_path / 'astro.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == N // 4


def test_video_that_ends_early(inferencer, clip, tmp_path):
    path, _ = clip
    data = open(path, 'rb').read()
    short = tmp_path / 'short.avi'
    short.write_bytes(data[: int(len(data) * 0.6)])
    out = tmp_path / 'out'
    with pytest.raises(
        ValueError, match=f'short.avi ended early: .* of {N} frames'
    ):
        inferencer(str(short), out_dir=str(out), detect_every=10)
    assert not out.exists() or os.listdir(out) == []
    frames = list(
        inferencer.iter_video(
            str(short), detect_every=10, allow_early_end=True
        )
    )
    assert 0 < len(frames) < N


def test_video_that_cannot_be_opened(inferencer, tmp_path):
    fake = tmp_path / 'fake.mp4'
    fake.write_text('not a video')
    with pytest.raises(ValueError, match='cannot open video .*fake.mp4'):
        inferencer(str(fake))
    with pytest.raises(FileNotFoundError, match='missing.mp4'):
        inferencer(str(tmp_path / 'missing.mp4'))


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(detect_every=0), r'detect_every must be an integer >= 1, got 0'),
        (dict(every=0), r'every must be an integer >= 1, got 0'),
        (dict(smooth=2), r'smooth must be in \[0, 1\).*got 2'),
        (dict(smooth=-0.1), r'smooth must be in \[0, 1\)'),
    ],
)
def test_bad_video_options_name_the_argument(inferencer, clip, kwargs, match):
    path, _ = clip
    with pytest.raises(ValueError, match=match):
        next(inferencer.iter_video(path, max_frames=2, **kwargs))


@pytest.mark.parametrize(
    'argv, match',
    [
        (
            ['--smooth', '2'],
            r'argument --smooth: expected a number in \[0, 1\)',
        ),
        (
            ['--detect-every', '0'],
            r'argument --detect-every: expected an ' r'integer >= 1, got 0',
        ),
        (
            ['--every', 'x'],
            r'argument --every: expected an integer >= 1, ' r"got 'x'",
        ),
    ],
)
def test_video_demo_options_checked(argv, match, capsys):
    from tests.helpers.tools import load_tool

    demo = load_tool('demo/video_demo.py')
    with pytest.raises(SystemExit):
        demo.parse_args(['v.mp4', 'cfg.py'] + argv)
    assert __import__('re').search(match, capsys.readouterr().err)

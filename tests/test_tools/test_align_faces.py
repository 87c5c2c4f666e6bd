# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""tools/dataset_converters/align_faces.py: raw photos and videos in,
aligned crops in the RAF-DB / Aff-Wild2 layouts out."""

import hashlib
import importlib.util
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
import torch

from fer_mm.apis.face import TEMPLATES, transform_points
from fer_mm.apis.inputs import VideoSource
from fer_mm.testing.synthetic.face_renderer import (
    expression_vector,
    random_identity,
    render_frame,
)
from tests.helpers.face_geometry import MEAN_GEOMETRY
from tests.helpers.subproc import run_checked

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'dataset_converters', 'align_faces.py')
# MEAN_GEOMETRY, the average face geometry of the generator (tests/helpers/
# face_geometry.py): its 5 points are the template's, so what remains of
# the eye error is the detector's.
SCALE, OFFSET = 2, np.array([70.0, 20.0])  # face 2x, placed at (70, 20)
NO_FACE_FRAMES = {4, 9}  # 1-based frame numbers with the face left out


def _tool():
    spec = importlib.util.spec_from_file_location('align_faces', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope='module')
def astronaut():
    """scikit-image's astronaut photograph (one face), BGR."""
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture(scope='module')
def coffee():
    """scikit-image's coffee photograph (no face), BGR."""
    from skimage import data

    return cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR)


def make_raw_video(path, num_frames=10):
    """An Aff-Wild2-style raw video (one person, 320x240, the head rolling
    and moving); returns the true eye centres per frame (None: no face)."""
    rng = np.random.default_rng(7)
    idt = random_identity(rng)
    idt.update(MEAN_GEOMETRY)
    writer = cv2.VideoWriter(
        path, cv2.VideoWriter_fourcc(*'MJPG'), 25.0, (320, 240)
    )
    assert writer.isOpened()
    eyes = {}
    for t in range(1, num_frames + 1):
        canvas = np.full((240, 320, 3), 96, np.uint8)
        if t not in NO_FACE_FRAMES:
            expr = expression_vector(t % 7, 0.0, rng)  # neutral: only the
            # pose moves the 5 points
            bg = np.full((100, 100, 3), 96, np.uint8)
            pose = (12.0 * np.sin(t), 1.0, 3.0 * np.cos(t), 2.0 * np.sin(t))
            face, pts = render_frame(
                idt, expr, bg, rng, pose=pose, light=(0, 0, 1), occluder=False
            )
            big = cv2.resize(
                face, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC
            )
            x, y = OFFSET.astype(int)
            canvas[y : y + 200, x : x + 200] = big
            centres = np.stack([pts[36:42].mean(0), pts[42:48].mean(0)])
            eyes[t] = centres * SCALE + (SCALE - 1) / 2 + OFFSET
        writer.write(canvas)
    writer.release()
    return eyes


def journal(out):
    with open(osp.join(out, 'align_faces.jsonl')) as f:
        return {e['key']: e for e in map(json.loads, f)}


def digests(folder):
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            if name.endswith('.jpg'):
                path = osp.join(root, name)
                with open(path, 'rb') as f:
                    out[osp.relpath(path, folder)] = hashlib.sha1(
                        f.read()
                    ).hexdigest()
    return out


def test_video_to_affwild2_layout_eyes_on_template(tmp_path):
    video = str(tmp_path / 'raw' / 'video_01.avi')
    os.makedirs(osp.dirname(video))
    eyes = make_raw_video(video)
    data_root = tmp_path / 'affwild2'
    out = str(data_root / 'cropped_aligned')
    report = _tool().main([video, '--out-dir', out])

    faces = sorted(eyes)
    assert sorted(os.listdir(osp.join(out, 'video_01'))) == [
        f'{t:05d}.jpg' for t in faces
    ]
    assert report['crops_written'] == len(faces)
    assert report['no_face'] == [
        dict(input=video, frame=t) for t in sorted(NO_FACE_FRAMES)
    ]
    crop = cv2.imread(osp.join(out, 'video_01', '00001.jpg'))
    assert crop.shape == (100, 100, 3)
    # The journal's image-to-crop matrix takes the generator's eye centres
    # to the template's eyes. What is left is the detector's error (MTCNN's
    # eye points on 200-px synthetic faces; measured on this video, worse
    # eye per crop: median 1.5 px, worst 3.25 px of the 100x100 crop; 5 of
    # the 8 crops have both eyes within 2 px).
    entries = journal(out)
    template_eyes = TEMPLATES['rafdb'][0][:2]
    errors = []
    for t in faces:
        (face,) = entries[f'{video}#{t}']['faces']
        moved = transform_points(eyes[t], np.array(face['matrix']))
        errors.append(np.linalg.norm(moved - template_eyes, axis=1).max())
    assert np.median(errors) < 2.0, errors
    assert max(errors) < 3.5, errors
    # The crop is the warp of the frame by that matrix (checked on frame 1).
    frame1 = next(iter(VideoSource(video)))[1]
    warped = cv2.warpAffine(
        frame1,
        np.array(entries[f'{video}#1']['faces'][0]['matrix']),
        (100, 100),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
    )
    assert np.abs(warped.astype(int) - crop.astype(int)).mean() < 3.0

    # The crops are what the Aff-Wild2 loader reads: frames without a face
    # are missing on disk and dropped.
    ann = data_root / 'annotations' / 'EXPR_Classification_Challenge'
    (ann / 'Train_Set').mkdir(parents=True)
    labels = [t % 8 for t in range(1, 11)]
    (ann / 'Train_Set' / 'video_01.txt').write_text(
        'Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n'
        + '\n'.join(map(str, labels))
        + '\n'
    )
    from fer_mm.datasets import AffWild2

    ds = AffWild2(str(data_root), split='train')
    assert [ds.get_data_info(i)['frame'] for i in range(len(ds))] == faces
    assert [ds.get_data_info(i)['gt_label'] for i in range(len(ds))] == [
        labels[t - 1] for t in faces
    ]


def test_photos_rafdb_style_and_no_face_report(tmp_path, astronaut, coffee):
    folder = tmp_path / 'photos'
    folder.mkdir()
    cv2.imwrite(str(folder / 'astronaut.png'), astronaut)
    cv2.imwrite(str(folder / 'coffee.jpg'), coffee)
    (folder / 'notes.txt').write_text('not an image')
    out = str(tmp_path / 'aligned')
    report = _tool().main(
        [str(folder), '--out-dir', out, '--align-size', '112']
    )
    assert sorted(f for f in os.listdir(out) if f.endswith('.jpg')) == [
        'astronaut_aligned.jpg'
    ]
    assert cv2.imread(osp.join(out, 'astronaut_aligned.jpg')).shape == (
        112,
        112,
        3,
    )
    assert report['no_face'] == [dict(input=str(folder / 'coffee.jpg'))]
    assert report['skipped_files'] == [str(folder / 'notes.txt')]
    with open(osp.join(out, 'align_faces_report.json')) as f:
        assert json.load(f)['no_face'] == report['no_face']
    # A second run redoes nothing, and still reports the coffee photo.
    again = _tool().main(
        [str(folder), '--out-dir', out, '--align-size', '112']
    )
    assert again['crops_written'] == 0 and again['skipped_done'] == 2
    assert again['no_face'] == report['no_face']
    # Crops written inside the input folder are not taken as photos.
    inside = str(folder / 'aligned')
    _tool().main([str(folder), '--out-dir', inside])
    twice = _tool().main([str(folder), '--out-dir', inside])
    assert twice['inputs']['images'] == 2 and twice['skipped_done'] == 2


def test_interrupted_run_resumes_without_redoing(tmp_path, monkeypatch):
    video = str(tmp_path / 'clip.avi')
    make_raw_video(video)
    clean = str(tmp_path / 'clean')
    _tool().main([video, '--out-dir', clean])
    out = str(tmp_path / 'out')
    tool = _tool()
    real = tool.write_whole
    calls = []

    def dies_on_the_fourth(path, data):
        calls.append(path)
        if len(calls) == 4:  # killed half-way through writing a crop
            with open(
                osp.join(osp.dirname(path), '.align_faces-x.tmp'), 'wb'
            ) as f:
                f.write(data[: len(data) // 2])
            raise KeyboardInterrupt
        real(path, data)

    monkeypatch.setattr(tool, 'write_whole', dies_on_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        tool.main([video, '--out-dir', out])
    before = digests(out)
    assert len(before) == 3
    mtimes = {p: os.stat(osp.join(out, p)).st_mtime_ns for p in before}
    monkeypatch.undo()
    # A kill can also cut the journal's last line short.
    with open(osp.join(out, 'align_faces.jsonl'), 'a') as f:
        f.write('{"key": "cut sh')
    report = _tool().main([video, '--out-dir', out])
    # 3 crops and 1 no-face frame were finished before the interruption.
    assert report['skipped_done'] == 4
    assert report['stale_temporaries_removed'] == 1
    for p in before:
        assert os.stat(osp.join(out, p)).st_mtime_ns == mtimes[p]
    assert digests(out) == digests(clean)
    assert len(journal(out)) == 10  # every line parses, one per frame
    assert not [
        f for _, _, files in os.walk(out) for f in files if f.endswith('.tmp')
    ]


def test_bad_inputs_are_named(tmp_path):
    tool = _tool()
    with pytest.raises(FileNotFoundError, match='input not found: .*nope.jpg'):
        tool.main([str(tmp_path / 'nope.jpg'), '--out-dir', str(tmp_path)])
    bad = tmp_path / 'broken.jpg'
    bad.write_bytes(b'not a jpeg')
    with pytest.raises(ValueError, match=r'cannot read image .*broken.jpg'):
        tool.main([str(bad), '--out-dir', str(tmp_path / 'o')])
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    for d in ('a', 'b'):
        cv2.imwrite(str(tmp_path / d / 'x.jpg'), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match='same name stem'):
        tool.main(
            [str(tmp_path / 'a'), str(tmp_path / 'b'), '--out-dir', 'o2']
        )
    with pytest.raises(ValueError, match='affwild2 style is for videos'):
        tool.main(
            [str(tmp_path / 'a'), '--out-dir', 'o3', '--style', 'affwild2']
        )


@pytest.mark.slow
def test_killed_process_resumes_without_corrupting(tmp_path):
    """A real SIGKILL half-way through a video, then the same command."""
    video = str(tmp_path / 'clip.avi')
    make_raw_video(video, num_frames=40)
    out = str(tmp_path / 'out')
    cmd = [sys.executable, TOOL, video, '--out-dir', out]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    folder = osp.join(out, 'clip')
    while proc.poll() is None:
        if osp.isdir(folder) and len(os.listdir(folder)) >= 5:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, 'finished before the kill'
    before = digests(out)
    for rel in before:  # every finished crop decodes
        assert cv2.imread(osp.join(out, rel)) is not None
    run_checked(cmd, cwd=REPO, env=env)
    with open(osp.join(out, 'align_faces_report.json')) as f:
        report = json.load(f)
    assert report['skipped_done'] >= len(before)
    after = digests(out)
    assert {k: after[k] for k in before} == before
    clean = str(tmp_path / 'clean')
    run_checked(
        [sys.executable, TOOL, video, '--out-dir', clean], cwd=REPO, env=env
    )
    assert after == digests(clean)

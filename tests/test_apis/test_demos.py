# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""demo/image_demo.py and demo/video_demo.py end to end (subprocesses)."""

import csv
import json
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import pytest

from fer_mm.datasets.categories import AFFWILD2_CATEGORIES

from .conftest import RESNET, moving_frames, write_clip

pytestmark = pytest.mark.slow


def run(args, repo_root, ok=True):
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if ok:
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


def test_image_demo_folder(
    repo_root, resnet_checkpoint, astronaut, coffee, tmp_path
):
    folder = tmp_path / 'photos'
    folder.mkdir()
    cv2.imwrite(str(folder / 'astronaut.jpg'), astronaut)
    cv2.imwrite(str(folder / 'coffee.jpg'), coffee)
    (folder / 'readme.txt').write_text('x')
    out = tmp_path / 'out'
    proc = run(
        [
            'demo/image_demo.py',
            str(folder),
            RESNET,
            '--checkpoint',
            resnet_checkpoint,
            '--out-dir',
            str(out),
            '--save-crops',
        ],
        repo_root,
    )
    assert 'no face found in 1 image(s)' in proc.stdout
    # --save-crops: the classified crop, in RAF-DB's aligned naming.
    assert os.listdir(out / 'crops') == ['astronaut_aligned.jpg']
    assert cv2.imread(str(out / 'crops' / 'astronaut_aligned.jpg')).shape == (
        100,
        100,
        3,
    )
    # No warning from another package (the stack's known ones are filtered
    # in fer_mm's entry points, fer_mm.utils.quiet); fer_mm's own deliberate
    # ones (a model trained on synthetic faces) may stay.
    warned = re.findall(r'^(\S+?):\d+: (\w+Warning)', proc.stderr, re.M)
    fer_mm_dir = osp.join(repo_root, 'fer_mm') + os.sep
    assert all(path.startswith(fer_mm_dir) for path, _ in warned), warned
    assert proc.stderr.count('Warning') == len(warned), proc.stderr[-3000:]
    assert 'skipped 1 file(s)' in proc.stdout
    result = json.load(open(out / 'predictions.json'))
    assert [r['num_faces'] for r in result['images']] == [1, 0]
    assert result['summary']['images_without_face'] == [
        str(folder / 'coffee.jpg')
    ]
    face = result['images'][0]['faces'][0]
    assert 'crop' not in face
    assert sum(face['pred_scores']) == pytest.approx(1.0, abs=1e-4)
    rows = list(csv.DictReader(open(out / 'predictions.csv')))
    assert len(rows) == 2
    assert (
        rows[0]['pred_class'] == face['pred_class']
        and rows[1]['pred_class'] == ''
    )
    assert sorted(os.listdir(out / 'vis')) == ['astronaut.jpg', 'coffee.jpg']


def test_video_demo_abaw(repo_root, resnet_checkpoint, astronaut, tmp_path):
    n = 12
    frames, _ = moving_frames(astronaut, n)
    clip = write_clip(str(tmp_path / 'vid.avi'), frames, fourcc='MJPG')
    out = tmp_path / 'out'
    args = [
        'demo/video_demo.py', clip, RESNET, '--checkpoint', resnet_checkpoint, '--out-dir', str(out),
        '--every', '2', '--detect-every', '3', '--smooth', '0.5', '--abaw', '--threads', '1',
        '--save-crops',
    ]  # fmt: skip
    proc = run(args, repo_root)
    assert 'frames/s' in proc.stdout
    # --save-crops: Aff-Wild2's cropped_aligned naming, 1-based frames.
    assert sorted(os.listdir(out / 'crops' / 'vid')) == [
        f'{i + 1:05d}.jpg' for i in range(0, n, 2)
    ]
    assert sorted(os.listdir(out)) == [
        'abaw',
        'crops',
        'vid.csv',
        'vid.json',
        'vid.mp4',
    ]
    result = json.load(open(out / 'vid.json'))
    assert result['summary']['frames'] == n // 2
    assert result['summary']['detector_runs'] == 2
    kept = {f['frame']: f['faces'][0]['pred_label'] for f in result['frames']}
    assert sorted(kept) == list(range(0, n, 2))
    rows = list(csv.DictReader(open(out / 'vid.csv')))
    assert [int(r['frame']) for r in rows] == list(range(0, n, 2))
    lines = open(out / 'abaw' / 'vid.txt').read().splitlines()
    assert lines[0] == 'image_location,' + ','.join(AFFWILD2_CATEGORIES)
    assert len(lines) == n + 1
    classes = result['classes']
    for i, line in enumerate(lines[1:]):
        name, label = line.split(',')
        assert name == f'vid/{i + 1:05d}.jpg'
        # Skipped odd frames take the previous kept frame's prediction,
        # mapped by class name onto Aff-Wild2's order.
        want = classes[kept[i - i % 2]]
        assert AFFWILD2_CATEGORIES[int(label)] == want


def test_video_demo_early_end_writes_nothing(
    repo_root, resnet_checkpoint, astronaut, tmp_path
):
    frames, _ = moving_frames(astronaut, 12)
    clip = write_clip(str(tmp_path / 'vid.avi'), frames, fourcc='MJPG')
    data = open(clip, 'rb').read()
    open(clip, 'wb').write(data[: len(data) // 2])
    out = tmp_path / 'out'
    proc = run(
        [
            'demo/video_demo.py',
            clip,
            RESNET,
            '--checkpoint',
            resnet_checkpoint,
            '--out-dir',
            str(out),
            '--abaw',
            '--threads',
            '1',
            '--detect-every',
            '10',
        ],
        repo_root,
        ok=False,
    )
    assert proc.returncode != 0
    assert 'ended early' in proc.stderr
    assert not out.exists() or os.listdir(out) == []

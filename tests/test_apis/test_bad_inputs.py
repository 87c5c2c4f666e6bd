# Copyright (c) fer_mm contributors. Licensed under the Apache License 2.0.
"""Damaged and awkward inputs to the inference API: every input gets its
own result and its own drawing, tiny images have no face, a truncated file
is flagged."""

import os

import cv2
import numpy as np
import pytest


@pytest.fixture
def awkward_folder(tmp_path, astronaut, coffee):
    folder = tmp_path / 'photos'
    folder.mkdir()
    cv2.imwrite(str(folder / 'astronaut.jpg'), astronaut)
    cv2.imwrite(str(folder / 'astronaut.png'), astronaut)
    cv2.imwrite(str(folder / 'coffee.jpg'), coffee)
    cv2.imwrite(str(folder / 'coffee.png'), coffee)
    cv2.imwrite(str(folder / 'tiny.png'), np.full((12, 12, 3), 99, np.uint8))
    data = (folder / 'astronaut.jpg').read_bytes()
    (folder / 'truncated.jpg').write_bytes(data[: int(len(data) * 0.6)])
    return folder


def test_every_input_its_own_result_and_drawing(
    inferencer, awkward_folder, tmp_path
):
    out = tmp_path / 'out'
    records = inferencer(str(awkward_folder), out_dir=str(out))
    names = [os.path.basename(r['image']) for r in records]
    assert names == [
        'astronaut.jpg',
        'astronaut.png',
        'coffee.jpg',
        'coffee.png',
        'tiny.png',
        'truncated.jpg',
    ]
    # 6 inputs, 6 drawings (coffee.jpg and coffee.png both became
    # vis/coffee.jpg before)
    assert sorted(os.listdir(out / 'vis')) == [
        'astronaut.jpg',
        'astronaut_png.jpg',
        'coffee.jpg',
        'coffee_png.jpg',
        'tiny.jpg',
        'truncated.jpg',
    ]
    faces = dict(zip(names, (r['num_faces'] for r in records)))
    assert faces['tiny.png'] == 0  # no face, and the run went on
    assert faces['astronaut.jpg'] == faces['astronaut.png'] == 1
    damaged = {n: r['damaged'] for n, r in zip(names, records)}
    assert damaged.pop('truncated.jpg').startswith('truncated JPEG')
    assert set(damaged.values()) == {None}
    assert list(inferencer.stats['damaged']) == [
        str(awkward_folder / 'truncated.jpg')
    ]


def test_image_file_problem(awkward_folder, tmp_path):
    from fer_mm.apis.inputs import image_file_problem

    assert image_file_problem(str(awkward_folder / 'astronaut.jpg')) is None
    assert image_file_problem(str(awkward_folder / 'coffee.png')) is None
    assert 'no end-of-image marker' in image_file_problem(
        str(awkward_folder / 'truncated.jpg')
    )
    png = (awkward_folder / 'coffee.png').read_bytes()
    cut = tmp_path / 'cut.png'
    cut.write_bytes(png[:-30])
    assert image_file_problem(str(cut)).startswith('truncated PNG')
    # bytes after the end marker are not truncation
    padded = tmp_path / 'padded.jpg'
    padded.write_bytes((awkward_folder / 'astronaut.jpg').read_bytes() + b'\0')
    assert image_file_problem(str(padded)) is None


@pytest.mark.slow
def test_image_demo_on_awkward_folder(
    repo_root, resnet_checkpoint, awkward_folder, tmp_path
):
    import json

    from .conftest import RESNET
    from .test_demos import run

    out = tmp_path / 'out'
    run(
        [
            'demo/image_demo.py',
            str(awkward_folder),
            RESNET,
            '--checkpoint',
            resnet_checkpoint,
            '--out-dir',
            str(out),
        ],
        repo_root,
    )
    assert len(os.listdir(out / 'vis')) == 6
    assert 'coffee_png.jpg' in os.listdir(out / 'vis')
    result = json.load(open(out / 'predictions.json'))
    damaged = result['summary']['damaged_files']
    assert list(damaged) == [str(awkward_folder / 'truncated.jpg')]
    assert [r['damaged'] is not None for r in result['images']] == [
        False,
        False,
        False,
        False,
        False,
        True,
    ]
